import Foundation
import Logging
import TrackerCore
import TrackerMQTT
import TrackerSystem

/// A short-lived MQTT client with localcloud's own identity, for the operator's commands
/// (`localcloud shadow`, `localcloud job`): connect, do one exchange, stop at a deadline.
enum OperatorConnection {
    static func make(_ directory: LocalCloudDirectory, port: Int, name: String, logger: Logger) throws -> MQTTConnection {
        try MQTTConnection(
            settings: MQTTSettings(host: "localhost", port: port, caFile: directory.caCertificate, certFile: directory.serviceCertificate,
                                   keyFile: directory.serviceKey, clientID: "localcloud-\(name)-\(UUID().uuidString.prefix(8))"),
            logger: logger, backoff: Backoff(base: .milliseconds(100), cap: .seconds(1)))
    }

    /// Starts `connection`, runs `exchange` on its events until it returns, or nil after
    /// `deadline`; the connection is shut down either way.
    static func exchange<Answer: Sendable>(_ connection: MQTTConnection, deadline: Duration,
                                           _ exchange: @escaping @Sendable (MQTTConnection) async -> Answer?) async -> Answer? {
        connection.start()
        let answer = await Deadline.run(within: deadline) { await exchange(connection) }
        await connection.shutdown()
        return answer
    }
}
