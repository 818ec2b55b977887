import Foundation
import Logging
import Testing
import TestSupport
import TrackerCore
import TrackerSystem
@testable import TrackerMQTT

/// A connection whose socket the caller serves, as the daemon's loop does: a loop of the
/// test's own on a thread, sleeping on an `InputQueue` and the socket, against a real
/// mosquitto with TLS and client certificates.
@Suite struct CallerServedConnectionTests {
    /// The daemon's loop in small: the connection's events into `events`, work handed to it
    /// with `onLoop` (a session the caller serves is published to from the caller's thread).
    final class ServingLoop: Sendable {
        enum Input: Sendable {
            case event(MQTTEvent)
            case socket
            case run(@Sendable () -> Void)
            case finish
        }

        let connection: MQTTConnection
        let events = EventLog<MQTTEvent>()
        private let inbox = InputQueue<Input>()

        init(_ connection: MQTTConnection) {
            self.connection = connection
        }

        func start() {
            let inbox = inbox
            connection.start(delivering: { inbox.put(.event($0)) }, servedBy: { inbox.put(.socket) })
            let loop = self
            #expect(ReaderThread.start(name: "test-serving") { loop.run() })
        }

        private func run() {
            while true {
                let request = connection.socketRequest(now: MonotonicInstant.now)
                var socket = request.map { [$0.descriptor] } ?? []
                let inputs = inbox.take(until: request?.serveBy, watching: &socket)
                connection.serve(now: MonotonicInstant.now)
                for input in inputs {
                    switch input {
                    case .event(let event): events.append(event)
                    case .socket: break
                    case .run(let body): body()
                    case .finish: return
                    }
                }
            }
        }

        func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
            await withCheckedContinuation { done in inbox.put(.run { done.resume(returning: body()) }) }
        }

        /// Stops serving (the connection's thread takes the session over), shuts the
        /// connection down and ends the loop's thread.
        func finish() async {
            let connection = connection
            await onLoop { connection.release() }
            await connection.shutdown()
            inbox.put(.finish)
        }
    }

    /// Bytes the kernel holds for the socket, unread.
    static func unread(_ fd: Int32) -> Int32 {
        var count: Int32 = 0
        return ioctl(fd, UInt(FIONREAD), &count) == 0 ? count : -1
    }

    @Test func aPubackWaitsInTheSocketForTheNextWakeUpUnlessItIsWanted() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let subscriber = try await broker.subscribe("gpsTopic")
        // A deferral and a keepalive longer than the test, however slow the machine: only the
        // next wake-up may read the PUBACK.
        var settings = MQTTConnectionTests.settings(broker)
        settings.keepalive = 600
        let deferral = Duration.seconds(120)
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()), readDeferral: deferral)
        let loop = ServingLoop(connection)
        loop.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.connected) })

        // Nothing needs the acknowledgement at once: the publish is written at once, and its
        // PUBACK waits in the socket instead of waking the loop.
        let (published, request, before, after) = await loop.onLoop {
            () -> (Result<Int32, MQTTConnection.PublishError>, MQTTConnection.SocketRequest?, MonotonicInstant, MonotonicInstant) in
            connection.wantAcknowledgements(false)
            let before = MonotonicInstant.now
            let published = connection.publish(topic: "gpsTopic", payload: Array(#"{"n":1}"#.utf8))
            let request = connection.socketRequest(now: .now)
            return (published, request, before, .now)
        }
        guard case .success(let id) = published, let request else {
            Issue.record("publish: \(published), request: \(String(describing: request))")
            return
        }
        #expect(request.descriptor.events & Int16(POLLIN) == 0, "reads deferred")
        #expect(request.serveBy >= before + deferral && request.serveBy <= after + deferral, "the loop serves it by the deferral's end")
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { $0.contains(#"gpsTopic {"n":1}"#) }, "written without a wake-up")
        // The test watches the socket itself (the loop does not, for now).
        var watch = pollfd(fd: request.descriptor.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&watch, 1, 5000) == 1 && Self.unread(watch.fd) > 0, "the PUBACK is in the socket")
        #expect(!connection.hasAcknowledged, "and not read: the loop sleeps on")
        // The next wake-up (here: work for the loop) reads it first.
        let acknowledged = await loop.onLoop { connection.takeAcknowledged() }
        #expect(acknowledged == [id])

        // Wanted at once (a backlog waits for the window): each PUBACK wakes the loop.
        let ids = await loop.onLoop { () -> [Int32] in
            connection.wantAcknowledgements(true)
            return (2...51).compactMap { n in
                if case .success(let id) = connection.publish(topic: "gpsTopic", payload: Array("{\"n\":\(n)}".utf8)) { id } else { nil }
            }
        }
        #expect(ids.count == 50)
        var taken: [Int32] = []
        let until = MonotonicInstant.now + .seconds(10)
        while taken.count < 50 && MonotonicInstant.now < until {
            let seen = loop.events.items.filter { $0 == .acknowledgementsReady }.count
            _ = await loop.events.wait(timeout: .seconds(1)) { $0.filter { $0 == .acknowledgementsReady }.count > seen }
            taken += connection.takeAcknowledged()
        }
        #expect(taken.sorted() == ids.sorted(), "every message acknowledged once")
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { $0.filter { $0.hasPrefix("gpsTopic ") }.count == 51 })
        #expect(subscriber.stdoutLines.items.filter { $0.hasPrefix("gpsTopic ") } == (1...51).map { "gpsTopic {\"n\":\($0)}" })
        await loop.finish()
    }

    /// The bytes the broker's end of our connection holds unread (`ss`'s Recv-Q).
    static func brokerUnread(port: Int) -> Int? {
        let ss = Process()
        ss.executableURL = URL(fileURLWithPath: "/usr/bin/ss")
        ss.arguments = ["-Htn", "state", "established", "( sport = :\(port) )"]
        let pipe = Pipe()
        ss.standardOutput = pipe
        guard (try? ss.run()) != nil else { return nil }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ss.waitUntilExit()
        return text.split(separator: "\n").compactMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).first ?? "") }.max()
    }

    /// The queue keeps its own window ([queue] max_inflight): a window wider than
    /// libmosquitto's default of 20 goes out whole, without waiting for PUBACKs.
    @Test func aWindowWiderThanTwentyIsWrittenWithoutWaitingForAcknowledgements() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let connection = try MQTTConnection(settings: MQTTConnectionTests.settings(broker), logger: CapturingLogHandler.logger(EventLog()))
        let loop = ServingLoop(connection)
        loop.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        // The broker stops reading: what we write waits in its socket, and no PUBACK comes.
        let process = try #require(broker.process)
        process.signal(SIGSTOP)
        defer { process.signal(SIGCONT) }
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 200)
        let socket = await loop.onLoop { connection.socketRequest(now: .now)?.descriptor.fd ?? -1 }
        // Every byte written since the stop waits in our send queue or in the broker's receive
        // queue (read in that order, a byte moving between them counts twice, never not at all).
        func queued() -> Int {
            var bytes: Int32 = 0
            _ = ioctl(socket, UInt(TIOCOUTQ), &bytes)
            return Int(bytes)
        }
        func written() -> Int { queued() + (Self.brokerUnread(port: broker.port) ?? 0) }
        #expect(await loop.onLoop { if case .success = connection.publish(topic: "gpsTopic", payload: payload) { true } else { false } })
        // One message's bytes, once they have all reached the broker's side.
        let deadline = MonotonicInstant.now + .seconds(5)
        while queued() > 0 && MonotonicInstant.now < deadline { await Task.yield() }
        let one = Self.brokerUnread(port: broker.port) ?? 0
        #expect(one > 200)
        let published = await loop.onLoop {
            (2...60).filter { _ in if case .success = connection.publish(topic: "gpsTopic", payload: payload) { true } else { false } }.count
        }
        #expect(published == 59)
        // libmosquitto's own window would have held 40 back (and counted twice, 20 are not 60).
        #expect(written() >= 60 * one, "all 60 written (\(written()) bytes, \(one) for one)")
        process.signal(SIGCONT)
        await loop.finish()
    }

    /// A PUBACK record cut in two on the way: OpenSSL holds the first part read ahead; the loop
    /// goes on answering while the rest is away (it must not spin on the part, which
    /// SSL_has_pending may count), and reads the record once the rest makes the socket readable.
    @Test func aRecordCutInTwoLeavesTheLoopAsleepUntilItsRestComes() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let relay = try SplittingRelay(to: broker.port)
        var settings = MQTTConnectionTests.settings(broker)
        settings.port = relay.port
        let connection = try MQTTConnection(settings: settings, logger: CapturingLogHandler.logger(EventLog()))
        let loop = ServingLoop(connection)
        loop.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        // The next record from the broker (the PUBACK, 26 bytes) stops after 10 of them.
        relay.hold(after: 10)
        let published = await loop.onLoop { () -> Result<Int32, MQTTConnection.PublishError> in
            connection.wantAcknowledgements(true)
            return connection.publish(topic: "gpsTopic", payload: [1])
        }
        guard case .success(let id) = published else {
            Issue.record("publish: \(published)")
            return
        }
        #expect(await relay.forwarded.wait(timeout: .seconds(10)) { $0.reduce(0, +) >= 10 }, "the first part went through")
        // A loop spinning in `serve` on the part would not take this work.
        let answered = EventLog<Bool>()
        _ = Task { answered.append(await loop.onLoop { true }) }
        #expect(await answered.wait(timeout: .seconds(5)) { !$0.isEmpty }, "the loop still answers while the record is cut")
        #expect(!connection.hasAcknowledged)
        relay.release()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.acknowledgementsReady) }, "the rest came: read")
        #expect(connection.takeAcknowledged() == [id])
        await loop.finish()
    }

    @Test func aLostSessionGoesBackToTheConnectionThreadWhichReconnects() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let connection = try MQTTConnection(settings: MQTTConnectionTests.settings(broker), logger: CapturingLogHandler.logger(EventLog()),
                                            backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(100)))
        let loop = ServingLoop(connection)
        loop.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        // Idle: nothing written, so nothing deferred: the socket itself wakes the loop.
        let idle = await loop.onLoop { connection.socketRequest(now: .now) }
        #expect(idle.map { $0.descriptor.events & Int16(POLLIN) != 0 } == true)
        await broker.stop()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains { if case .disconnected = $0 { true } else { false } } },
                "\(loop.events.items)")
        #expect(await loop.onLoop { connection.socketRequest(now: .now) } == nil, "no socket while it reconnects")
        #expect(await loop.onLoop {
            if case .failure(.notConnected) = connection.publish(topic: "gpsTopic", payload: [1]) { true } else { false }
        })
        try await broker.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.filter { $0 == .connected }.count == 2 }, "handed over again")
        let published = await loop.onLoop { connection.publish(topic: "gpsTopic", payload: [1]) }
        guard case .success(let id) = published else {
            Issue.record("publish after the reconnect: \(published)")
            return
        }
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.acknowledgementsReady) })
        #expect(connection.takeAcknowledged() == [id])
        await loop.finish()
    }

    @Test func aReleasedSessionIsServedByTheConnectionThreadAndEndsCleanly() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let broker = try MosquittoBroker(pki: pki)
        try await broker.start()
        let status = try await broker.subscribe("trackers/tracker-1/status", clientID: "status-watcher")
        let connection = try MQTTConnection(settings: MQTTConnectionTests.settings(broker), logger: CapturingLogHandler.logger(EventLog()))
        let loop = ServingLoop(connection)
        loop.start()
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.connected) })
        // Released from the loop's own thread, as the daemon does; then any thread publishes
        // and the connection's own thread writes and reads.
        await loop.onLoop { connection.release() }
        guard case .success(let id) = connection.publish(topic: "gpsTopic", payload: [1]) else {
            Issue.record("publish after the release failed")
            return
        }
        #expect(await loop.events.wait(timeout: .seconds(10)) { $0.contains(.acknowledgementsReady) })
        #expect(connection.takeAcknowledged() == [id])
        await loop.finish()
        #expect(await broker.process!.stderrLines.wait(timeout: .seconds(5)) { $0.contains { $0.contains("Client tracker-1 disconnected") } },
                "a clean DISCONNECT: \(broker.process!.stderrLines.items)")
        #expect(!status.stdoutLines.items.contains { $0.contains("offline") }, "no last will")
    }
}
