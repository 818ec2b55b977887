import Foundation
import Logging
import Synchronization
import TrackerCore
import TrackerMQTT

/// AWS IoT Core's named device shadows on the broker: `$aws/things/{thing}/shadow/name/{name}/get`
/// and `/update`, answered on their `/accepted`, `/rejected`, `/delta` and `/documents` topics
/// with `NamedShadow`'s semantics. Documents are kept in `DIR/shadows/{thing}/{name}.json`
/// (atomic writes), so they survive a restart of localcloud.
public final class ShadowService: Sendable {
    public static let requestTopics = ["$aws/things/+/shadow/name/+/get", "$aws/things/+/shadow/name/+/update"]

    private let connection: MQTTConnection
    private let directory: String
    private let logger: Logger
    /// One request at a time: each is read, applied and written before the next.
    private let lock = Mutex(())
    /// Told of each accepted update, by thing and shadow name (the dashboard redraws zones).
    private let onUpdate: @Sendable (String, String) -> Void

    public init(connection: MQTTConnection, directory: String, logger: Logger, onUpdate: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.connection = connection
        self.directory = directory
        self.logger = logger
        self.onUpdate = onUpdate
    }

    /// Serves until the task is cancelled. Calls `ready` once the request topics are subscribed.
    public func run(ready: @Sendable () -> Void = {}) async {
        await RequestSubscription.serve(connection, topics: Self.requestTopics, name: "device shadows", logger: logger,
                                        ready: ready) { topic, payload in handle(topic: topic, payload: payload) }
    }

    /// `$aws/things/T/shadow/name/N/get|update`: the replies, published.
    func handle(topic: String, payload: [UInt8]) {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[0] == "$aws", parts[1] == "things", parts[3] == "shadow", parts[4] == "name",
              parts[6] == "get" || parts[6] == "update" else { return }
        let (thing, name, operation) = (parts[2], parts[5], parts[6])
        let now = Int64(Date().timeIntervalSince1970)
        let replies: [NamedShadow.Reply] = lock.withLock { _ in
            var shadow = load(thing: thing, name: name)
            if operation == "get" { return shadow.get(payload, name: name, now: now) }
            let replies = shadow.update(payload, now: now)
            if replies.first?.suffix == "update/accepted" { save(shadow, thing: thing, name: name) }
            return replies
        }
        if replies.first?.suffix == "update/accepted" { onUpdate(thing, name) }
        let base = "$aws/things/\(thing)/shadow/name/\(name)/"
        for reply in replies {
            _ = connection.publish(topic: base + reply.suffix, payload: reply.payload.bytes)
            if reply.suffix.hasSuffix("rejected") {
                logger.notice("shadow \(thing)/\(name) \(operation) rejected: \(String(decoding: reply.payload.bytes, as: UTF8.self))")
            }
        }
    }

    func path(thing: String, name: String) -> String { directory + "/" + thing + "/" + name + ".json" }

    private func load(thing: String, name: String) -> NamedShadow {
        guard let data = FileManager.default.contents(atPath: path(thing: thing, name: name)) else { return NamedShadow() }
        return (try? JSONDecoder().decode(NamedShadow.self, from: data)) ?? NamedShadow()
    }

    private func save(_ shadow: NamedShadow, thing: String, name: String) {
        do {
            try FileManager.default.createDirectory(atPath: directory + "/" + thing, withIntermediateDirectories: true)
            try JSONEncoder().encode(shadow).write(to: URL(fileURLWithPath: path(thing: thing, name: name)), options: .atomic)
        } catch {
            logger.error("cannot keep the shadow \(thing)/\(name): \(error)")
        }
    }
}
