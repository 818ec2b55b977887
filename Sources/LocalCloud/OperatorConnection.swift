import Foundation
import Logging
import TrackerCore
import TrackerMQTT

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
        let answer: Answer? = await withTaskGroup(of: Answer?.self) { group in
            group.addTask { await exchange(connection) }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        await connection.shutdown()
        return answer
    }
}
