import ServiceLifecycle
import TrackerMQTT

/// The MQTT connection as a service of its own. It is started before the tracker loop and, as
/// ServiceGroup stops services in reverse order, stopped after it: the loop has flushed the
/// queue and said "offline" on the still-open connection before this disconnects cleanly.
struct MQTTConnectionService: Service, CustomStringConvertible {
    let connection: MQTTConnection

    var description: String { "MQTT connection to \(connection.settings.endpoint)" }

    func run() async throws {
        connection.start()
        // Returns on graceful shutdown, throws on cancellation: either way, disconnect.
        try? await gracefulShutdown()
        await connection.shutdown()
    }
}
