import Foundation
import Testing
import TestSupport
import TrackerCore
import TrackerCrypto
@testable import TrackerMQTT

/// MQTT over TLS with the client key in a real PKCS#11 token (SoftHSM2): the context trackerd
/// builds for libmosquitto verifies the broker as strictly as libmosquitto's own does.
@Suite(.enabled(if: SoftHSMToken.available, "needs softhsm2 (make test installs it)"), .serialized)
struct TokenTLSTests {
    /// The test PKI's client key imported into this process's token under a label of its own.
    static func importClientKey(_ pki: TestPKI) async throws -> String {
        let token = try SoftHSMToken.inProcess.get()
        try TokenKeys.open(module: SoftHSMToken.module, pinFile: token.pinFile)
        let label = "client-" + UUID().uuidString.prefix(8).lowercased()
        // softhsm2-util imports PKCS#8 only; the test PKI's keys are SEC1.
        let convert = try ChildProcess("/usr/bin/openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", pki.path("client.key"),
                                                            "-out", pki.path("client.p8")])
        #expect(await convert.waitForExit(timeout: .seconds(20)) == 0)
        let importer = try ChildProcess("/usr/bin/softhsm2-util", ["--import", pki.path("client.p8"), "--token", token.label,
                                                                   "--label", label, "--id", String(label.dropFirst(7)), "--pin", token.pin],
                                        environment: token.environment)
        #expect(await importer.waitForExit(timeout: .seconds(20)) == 0, "\(importer.stderrLines.items)")
        return "pkcs11:token=\(token.label);object=\(label);type=private"
    }

    @Test(arguments: [
        ("a good broker", "server", "ca.pem", nil),
        ("wrong CA", "server", "other-ca.pem", "not signed by the CA in"),
        ("host name mismatch", "wronghost", "ca.pem", "host name mismatch"),
    ] as [(String, String, String, String?)])
    func theBrokerIsVerifiedAsWithAKeyFile(_ name: String, server: String, ca: String, refusal: String?) async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let key = try await Self.importClientKey(pki)
        let broker = try MosquittoBroker(pki: pki, serverCertificate: server)
        try await broker.start()
        let settings = MQTTSettings(host: "localhost", port: broker.port, caFile: pki.path(ca), certFile: pki.path("client.pem"),
                                    keyFile: key, clientID: "tracker-1")
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()),
                                            backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(100)))
        let (events, task) = MQTTConnectionTests.collect(connection)
        defer { task.cancel() }
        connection.start()
        if let refusal {
            #expect(await events.wait(timeout: .seconds(20)) { $0.contains { if case .connectionFailed = $0 { true } else { false } } })
            let reason = events.items.compactMap { if case .connectionFailed(let reason) = $0 { reason } else { nil } }.first
            #expect(reason?.contains(refusal) == true, "\(name): \(reason ?? "none")")
            #expect(!events.items.contains(.connected))
        } else {
            #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) }, "\(events.items)")
            let subscriber = try await broker.subscribe("gpsTopic")
            _ = connection.publish(topic: "gpsTopic", payload: Array("{\"signed\":\"in the token\"}".utf8))
            #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { $0.contains("gpsTopic {\"signed\":\"in the token\"}") })
        }
        await connection.shutdown()
    }

    @Test func aTokenKeyThatIsNotThereFailsAtSetupWithTheReason() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        _ = try await Self.importClientKey(pki)
        let settings = MQTTSettings(host: "localhost", port: 1, caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"),
                                    keyFile: "pkcs11:token=trackerd-tests;object=nothing-here;type=private", clientID: "tracker-1")
        #expect(throws: MQTTConnection.SetupError.self) {
            try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()))
        }
    }
}
