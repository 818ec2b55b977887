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
    /// A client key made in this process's token and a certificate for it from the test CA.
    /// (Not an import by softhsm2-util: SoftHSM does not reliably show this process objects
    /// another process adds while this one changes the same token, as TokenKeysTests does.)
    static func tokenClient(_ pki: TestPKI) async throws -> (certificate: String, key: String) {
        let token = try SoftHSMToken.inProcess.get()
        try TokenKeys.open(module: SoftHSMToken.module, pinFile: token.pinFile)
        let uri = try TokenKeys.generateKey(PKCS11URI(token: token.label, object: "tls-client"))
        let csr = pki.path("token-client.csr"), certificate = pki.path("token-client.pem")
        try TokenKeys.certificateSigningRequest(uri, commonName: "tracker-1").write(toFile: csr, atomically: true, encoding: .utf8)
        let sign = try ChildProcess("/usr/bin/openssl", ["x509", "-req", "-in", csr, "-CA", pki.path("ca.pem"), "-CAkey", pki.path("ca.key"),
                                                         "-CAcreateserial", "-days", "1", "-out", certificate])
        #expect(await sign.waitForExit(timeout: .seconds(20)) == 0, "\(sign.stderrLines.items)")
        return (certificate, uri.keyURI)
    }

    @Test(arguments: [
        ("a good broker", "server", "ca.pem", nil),
        ("wrong CA", "server", "other-ca.pem", "not signed by the CA in"),
        ("host name mismatch", "wronghost", "ca.pem", "host name mismatch"),
    ] as [(String, String, String, String?)])
    func theBrokerIsVerifiedAsWithAKeyFile(_ name: String, server: String, ca: String, refusal: String?) async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let (certificate, key) = try await Self.tokenClient(pki)
        let broker = try MosquittoBroker(pki: pki, serverCertificate: server)
        try await broker.start()
        let settings = MQTTSettings(host: "localhost", port: broker.port, caFile: pki.path(ca), certFile: certificate,
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
        let (certificate, _) = try await Self.tokenClient(pki)
        let settings = MQTTSettings(host: "localhost", port: 1, caFile: pki.path("ca.pem"), certFile: certificate,
                                    keyFile: "pkcs11:token=trackerd-tests;object=nothing-here;type=private", clientID: "tracker-1")
        #expect(throws: MQTTConnection.SetupError.self) {
            try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()))
        }
    }
}
