import Foundation
import Logging
import Synchronization
import TrackerCore
import TrackerMQTT

/// AWS IoT Jobs' device MQTT API on the broker: `$aws/things/{thing}/jobs/start-next`,
/// `/{jobId}/update`, `/get` and `/{jobId}/get`, answered with `JobExecutions`' semantics on
/// their `/accepted` and `/rejected` topics; `notify-next` when what comes next changes.
/// Executions live in `JobStore`.
public final class JobsService: Sendable {
    public static let requestTopics = ["$aws/things/+/jobs/start-next", "$aws/things/+/jobs/+/update", "$aws/things/+/jobs/get",
                                       "$aws/things/+/jobs/+/get"]

    private let connection: MQTTConnection
    private let store: JobStore
    private let logger: Logger
    private let lock = Mutex(())
    /// Told of each execution whose status a request changed (the dashboard's job events).
    private let onStatusChange: @Sendable (String, JobExecutions.Execution) -> Void

    public init(connection: MQTTConnection, store: JobStore, logger: Logger,
                onStatusChange: @escaping @Sendable (String, JobExecutions.Execution) -> Void = { _, _ in }) {
        self.connection = connection
        self.store = store
        self.logger = logger
        self.onStatusChange = onStatusChange
    }

    public func run(ready: @Sendable () -> Void = {}) async {
        await RequestSubscription.serve(connection, topics: Self.requestTopics, name: "jobs", logger: logger,
                                        ready: ready) { topic, payload in handle(topic: topic, payload: payload) }
    }

    func handle(topic: String, payload: [UInt8]) {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 5, parts[0] == "$aws", parts[1] == "things", parts[3] == "jobs" else { return }
        let thing = parts[2]
        let now = Int64(Date().timeIntervalSince1970)
        let (replies, notify, changed): ([JobExecutions.Reply], JSONValue?, [JobExecutions.Execution]) = lock.withLock { _ in
            var jobs = store.executions(thing: thing)
            let original = jobs.executions
            let before = jobs.pending.first
            let replies: [JobExecutions.Reply]
            switch Array(parts[4...]) {
            case ["start-next"]: replies = jobs.startNext(payload, now: now)
            case ["get"]: replies = [jobs.pendingSummaries(payload, now: now)]
            case let rest where rest.count == 2 && rest[1] == "update": replies = jobs.update(jobId: rest[0], payload, now: now)
            case let rest where rest.count == 2 && rest[1] == "get": replies = [jobs.describe(jobId: rest[0], payload, now: now)]
            default: return ([], nil, [])
            }
            for execution in jobs.executions where !original.contains(execution) {
                do { try store.save(execution, thing: thing) } catch {
                    logger.error("cannot keep job \(execution.jobId) for \(thing): \(error)")
                }
            }
            // NextNotification: whenever the execution first in line changes.
            let after = jobs.pending.first
            let changed = jobs.executions.filter { execution in
                original.first { $0.jobId == execution.jobId }?.status != execution.status
            }
            return (replies, before?.jobId != after?.jobId ? jobs.nextNotification(now: now) : nil, changed)
        }
        for execution in changed { onStatusChange(thing, execution) }
        let base = "$aws/things/\(thing)/jobs/"
        for reply in replies {
            _ = connection.publish(topic: base + reply.suffix, payload: reply.payload.bytes)
            if reply.suffix.hasSuffix("rejected") {
                logger.notice("jobs: \(thing) \(reply.suffix): \(String(decoding: reply.payload.bytes, as: UTF8.self))")
            } else if reply.suffix.hasSuffix("update/accepted") {
                logger.notice("jobs: \(thing) \(reply.suffix.dropLast("/update/accepted".count)) now \(String(decoding: payload, as: UTF8.self))")
            }
        }
        if let notify { _ = connection.publish(topic: base + "notify-next", payload: notify.bytes) }
    }
}
