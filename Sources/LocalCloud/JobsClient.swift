import Foundation
import Logging
import TrackerCore
import TrackerMQTT

/// `localcloud job DIR create|list|describe`: the operator's side of localcloud's jobs. A new
/// job is written to the store and, when `localcloud serve` runs, each target thing is told
/// (`notify-next`) as AWS IoT Jobs tells it; a thing that is offline finds the job at its next
/// connection (`start-next`).
public struct JobsClient: Sendable {
    public let directory: LocalCloudDirectory
    public let port: Int
    public let logger: Logger

    public init(directory: LocalCloudDirectory, port: Int, logger: Logger) {
        self.directory = directory
        self.port = port
        self.logger = logger
    }

    public var store: JobStore { JobStore(directory: directory.jobs) }

    /// The job's id, and whether the things were told now (false: localcloud is not serving).
    public func create(jobId: String?, document: JSONValue, things: [String]) async throws -> (jobId: String, notified: Bool) {
        let now = Int64(Date().timeIntervalSince1970)
        let id = try store.create(jobId: jobId, document: document, things: things, now: now)
        let notifications = things.compactMap { thing -> (String, [UInt8])? in
            let jobs = store.executions(thing: thing)
            guard jobs.pending.first?.jobId == id else { return nil }
            return ("$aws/things/\(thing)/jobs/notify-next", jobs.nextNotification(now: now).bytes)
        }
        return (id, await publish(notifications))
    }

    /// Publishes at QoS 1 as localcloud's own identity; true once the broker took them all.
    private func publish(_ messages: [(topic: String, payload: [UInt8])]) async -> Bool {
        guard !messages.isEmpty else { return true }
        guard let connection = try? OperatorConnection.make(directory, port: port, name: "jobs", logger: logger) else { return false }
        let done = await OperatorConnection.exchange(connection, deadline: .seconds(5)) { connection -> Bool? in
            var pending = Set<Int32>()
            for await event in connection.events {
                switch event {
                case .connected:
                    for message in messages {
                        if case .success(let id) = connection.publish(topic: message.topic, payload: message.payload) { pending.insert(id) }
                    }
                case .acknowledgementsReady:
                    pending.subtract(connection.takeAcknowledged())
                    if pending.isEmpty { return true }
                default:
                    break
                }
            }
            return nil
        } ?? false
        return done
    }
}
