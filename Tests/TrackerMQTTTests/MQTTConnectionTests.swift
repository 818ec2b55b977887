import Foundation
import Logging
import Testing
import TestSupport
import TrackerCore
@testable import TrackerMQTT

/// MQTTConnection against a real mosquitto with TLS and required client certificates.
@Suite struct MQTTConnectionTests {
    static func settings(_ broker: MosquittoBroker, host: String = "localhost", ca: String = "ca.pem",
                         cert: String = "client", clientID: String = "tracker-1") -> MQTTSettings {
        MQTTSettings(host: host, port: broker.port, caFile: broker.pki.path(ca), certFile: broker.pki.path(cert + ".pem"),
                     keyFile: broker.pki.path(cert + ".key"), clientID: clientID, keepalive: 30,
                     statusTopic: "trackers/\(clientID)/status")
    }

    static func collect(_ connection: MQTTConnection) -> (EventLog<MQTTEvent>, Task<Void, Never>) {
        let events = EventLog<MQTTEvent>()
        let task = Task { for await event in connection.events { events.append(event) } }
        return (events, task)
    }

    @Test func publishesAtQoS1AndGetsEachAcknowledgement() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let subscriber = try await broker.subscribe("gpsTopic")
        let logs = EventLog<CapturingLogHandler.Entry>()
        let connection = try MQTTConnection(settings: Self.settings(broker), logger: CapturingLogHandler.logger(logs))
        let (events, task) = Self.collect(connection)
        defer { task.cancel() }
        connection.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        var ids: [Int32] = []
        for n in 1...50 {
            if case .success(let id) = connection.publish(topic: "gpsTopic", payload: Array("{\"n\":\(n)}".utf8)) { ids.append(id) }
        }
        #expect(ids.count == 50)
        let acknowledged = EventLog<Int32>()
        let deadline = MonotonicInstant.now + .seconds(10)
        var wakeups = 0
        while acknowledged.items.count < 50 && MonotonicInstant.now < deadline {
            let seen = wakeups
            _ = await events.wait(timeout: .seconds(1)) { $0.filter { $0 == .acknowledgementsReady }.count > seen }
            wakeups = events.items.filter { $0 == .acknowledgementsReady }.count
            for id in connection.takeAcknowledged() { acknowledged.append(id) }
        }
        #expect(acknowledged.items.sorted() == ids.sorted(), "every message id acknowledged once")
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { $0.filter { $0.hasPrefix("gpsTopic ") }.count == 50 })
        let received = subscriber.stdoutLines.items.filter { $0.hasPrefix("gpsTopic ") }
        #expect(received == (1...50).map { "gpsTopic {\"n\":\($0)}" })
        await connection.shutdown()
    }

    @Test(arguments: [
        ("wrong CA", "server", "other-ca.pem", "client", "localhost", "not signed by the CA in"),
        ("untrusted client certificate", "server", "ca.pem", "rogue", "localhost", "refused our client certificate"),
        ("host name mismatch", "wronghost", "ca.pem", "client", "localhost", "host name mismatch"),
        ("expired broker certificate", "expired", "ca.pem", "client", "localhost", "has expired"),
    ])
    func badCredentialsGiveAClearReasonAndARetry(_ name: String, server: String, ca: String, cert: String, host: String,
                                                 expected: String) async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki, serverCertificate: server)
        try await broker.start()
        let logs = EventLog<CapturingLogHandler.Entry>()
        let connection = try MQTTConnection(settings: Self.settings(broker, host: host, ca: ca, cert: cert),
                                            logger: CapturingLogHandler.logger(logs),
                                            backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(100)))
        let (events, task) = Self.collect(connection)
        defer { task.cancel() }
        connection.start()
        let failedTwice = await events.wait(timeout: .seconds(20)) { events in
            events.filter { if case .connectionFailed = $0 { true } else { false } }.count >= 2
        }
        #expect(failedTwice, "\(name): \(events.items)")
        let reasons = events.items.compactMap { if case .connectionFailed(let reason) = $0 { reason } else { nil } }
        print("\(name): \(reasons.first ?? "none")")
        #expect(reasons.first?.contains(expected) == true, "\(name): \(reasons.first ?? "none")")
        #expect(events.items.contains { if case .retrying = $0 { true } else { false } })
        #expect(!events.items.contains(.connected))
        await connection.shutdown()
    }

    @Test func aBrokerThatIsNotThereIsConnectionRefused() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        let logs = EventLog<CapturingLogHandler.Entry>()
        let connection = try MQTTConnection(settings: Self.settings(broker, host: "127.0.0.1"), logger: CapturingLogHandler.logger(logs),
                                            backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(50)))
        let (events, task) = Self.collect(connection)
        defer { task.cancel() }
        connection.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains { if case .connectionFailed(let r) = $0 { r.contains("connection refused") } else { false } } })
        try await broker.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) }, "connects once the broker is up")
        await connection.shutdown()
    }
}

@Suite struct ConnectionDiagnosisTests {
    @Test func anUnknownHostIsADNSFailure() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let settings = MQTTSettings(host: "broker.does-not-exist.invalid", port: 8883, caFile: pki.path("ca.pem"),
                                    certFile: pki.path("client.pem"), keyFile: pki.path("client.key"), clientID: "t")
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()),
                                            backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(50)))
        let events = EventLog<MQTTEvent>()
        let task = Task { for await event in connection.events { events.append(event) } }
        defer { task.cancel() }
        connection.start()
        #expect(await events.wait(timeout: .seconds(15)) { $0.contains {
            if case .connectionFailed(let reason) = $0 { reason.contains("cannot resolve broker.does-not-exist.invalid: DNS lookup failed") } else { false }
        } })
        await connection.shutdown()
    }

    /// The system clock of a Pi without RTC starts in 1970 until NTP or GPS sets it.
    @Test func aClockBeforeTheCertificateIsNamedAsAnUnsetClock() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let settings = MQTTSettings(host: "localhost", port: 8883, caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"),
                                    keyFile: pki.path("client.key"), clientID: "t")
        #expect(ConnectionDiagnosis.clientCertificateProblem(settings) == nil, "valid now")
        let unset = try #require(ConnectionDiagnosis.clientCertificateProblem(settings, now: 86_400))
        #expect(unset.hasPrefix("TLS: the system clock is not set (it reads 1970-01-02T00:00:00Z); our certificate is valid only from 20"))
        let later = try #require(ConnectionDiagnosis.clientCertificateProblem(settings, now: 4_102_444_800))
        #expect(later.contains("expired on"))
        #expect(ConnectionDiagnosis.explainVerify(9, "certificate is not yet valid", settings: settings).contains("not yet valid"))
    }
}

@Suite struct MQTTProtocolOptionTests {
    @Test func mqtt5PublishesAndIsAcknowledged() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        var settings = MQTTConnectionTests.settings(broker)
        settings.protocolVersion5 = true
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()))
        let (events, task) = MQTTConnectionTests.collect(connection)
        defer { task.cancel() }
        connection.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        guard case .success(let id) = connection.publish(topic: "gpsTopic", payload: Array("{}".utf8)) else {
            Issue.record("publish failed")
            return
        }
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.acknowledgementsReady) })
        #expect(connection.takeAcknowledged() == [id])
        #expect(await broker.process!.stderrLines.wait(timeout: .seconds(5)) { $0.contains { $0.contains("p5") && $0.contains("tracker-1") } },
                "the broker saw an MQTT 5 client")
        await connection.shutdown()
    }

    /// AWS IoT on port 443 needs ALPN `x-amzn-mqtt-ca`: openssl s_server reports what we offer.
    @Test func alpnIsOfferedWhenConfigured() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let port = LoopbackPort.free()
        // s_server prints what the client offered only in its interactive mode, which ends at
        // EOF on stdin: a FIFO it holds open itself never ends.
        let fifo = pki.path("stdin.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let server = try ChildProcess("/usr/bin/stdbuf", [
            "-oL", "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.path("server.pem"), "-key", pki.path("server.key"),
            "-CAfile", pki.path("ca.pem"), "-alpn", "x-amzn-mqtt-ca",
        ], stdinPath: fifo, stdinFlags: O_RDWR)
        defer { server.stop() }
        #expect(await server.stdoutLines.wait(timeout: .seconds(10)) { $0.contains("ACCEPT") })
        let settings = MQTTSettings(host: "localhost", port: port, caFile: pki.path("ca.pem"), certFile: pki.path("client.pem"),
                                    keyFile: pki.path("client.key"), clientID: "tracker-1", alpn: "x-amzn-mqtt-ca")
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()),
                                            backoff: Backoff(base: .seconds(5), cap: .seconds(5)))
        connection.start()
        #expect(await server.stdoutLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0.contains("ALPN protocols advertised by the client: x-amzn-mqtt-ca") }
        }, "\(server.stdoutLines.items)")
        await connection.shutdown()
    }
}

@Suite struct MQTTSubscriptionTests {
    @Test func subscribesThenReceivesWhatAnotherClientPublishes() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let listener = try MQTTConnection(settings: MQTTConnectionTests.settings(broker, clientID: "listener"),
                                          logger: CapturingLogHandler.logger(EventLog()))
        let (events, task) = MQTTConnectionTests.collect(listener)
        defer { task.cancel() }
        listener.start()
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        guard case .success(let id) = listener.subscribe(["$aws/certificates/create/json/accepted", "$aws/certificates/create/json/rejected"]) else {
            Issue.record("subscribe failed")
            return
        }
        #expect(await events.wait(timeout: .seconds(10)) { $0.contains(.subscribed(messageID: id, granted: [1, 1])) })

        let talker = try MQTTConnection(settings: MQTTConnectionTests.settings(broker, clientID: "talker"),
                                        logger: CapturingLogHandler.logger(EventLog()))
        let (talkerEvents, talkerTask) = MQTTConnectionTests.collect(talker)
        defer { talkerTask.cancel() }
        talker.start()
        #expect(await talkerEvents.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        _ = talker.publish(topic: "$aws/certificates/create/json/accepted", payload: Array(#"{"certificateId":"x"}"#.utf8))
        #expect(await events.wait(timeout: .seconds(10)) {
            $0.contains(.message(topic: "$aws/certificates/create/json/accepted", payload: Array(#"{"certificateId":"x"}"#.utf8)))
        })
        await talker.shutdown()
        await listener.shutdown()
    }
}
