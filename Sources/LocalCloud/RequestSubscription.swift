import Logging
import TrackerMQTT

/// How each of localcloud's services listens: subscribe to its request topics at every
/// connect, say `ready` once the broker confirmed them, and hand each request to the service.
enum RequestSubscription {
    /// Runs until the task is cancelled or the connection ends; `name` is the service's, for the log.
    static func serve(_ connection: MQTTConnection, topics: [String], name: String, logger: Logger, ready: @Sendable () -> Void,
                      handle: (String, [UInt8]) async -> Void) async {
        connection.start()
        var subscription: Int32?
        for await event in connection.events {
            if Task.isCancelled { break }
            switch event {
            case .connected:
                if case .success(let id) = connection.subscribe(topics) { subscription = id }
            case .subscribed(let id, _) where id == subscription:
                logger.info("answering \(name) on \(topics.joined(separator: ", "))")
                ready()
            case .message(let topic, let payload):
                await handle(topic, payload)
            case .connectionFailed(let reason), .disconnected(let reason):
                logger.warning("localcloud's \(name) client: \(reason)")
            default:
                break
            }
        }
        await connection.shutdown()
    }
}
