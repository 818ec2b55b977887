import Foundation
import Logging
import Testing
import TestSupport
import TrackerCore
@testable import GPSSources

/// The gpsd source against a real gpsd (Debian's 3.22) that the test starts on a free port and
/// feeds a real capture over TCP (../shared/testdata/gpsd/README.md, section B).
@Suite(.serialized) struct GPSDFixSourceTests {
    static let gpsd = "/usr/sbin/gpsd"

    static func startGPSD(port: Int, feed: Int) throws -> ChildProcess {
        try #require(FileManager.default.isExecutableFile(atPath: gpsd), "gpsd is missing: make test installs it (apt-get install gpsd)")
        return try ChildProcess(gpsd, ["-N", "-S", String(port), "tcp://127.0.0.1:\(feed)"])
    }

    /// Our source on gpsd's port, its log lines and fixes collected as events.
    static func consume(port: Int) -> (EventLog<CapturingLogHandler.Entry>, EventLog<Fix>, Task<Void, Never>) {
        let logs = EventLog<CapturingLogHandler.Entry>()
        let source = GPSDFixSource(host: "127.0.0.1", port: port, logger: CapturingLogHandler.logger(logs),
                                   backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(200)))
        let received = EventLog<Fix>()
        let consumer = Task { for await fix in source.fixes() { received.append(fix) } }
        return (logs, received, consumer)
    }

    /// nmea-rtk.log: a Trimble RTK receiver at 10 Hz, dated 2020 (no 3.22 week-rollover shift).
    static let capture = SharedTestData.gpsdCaptures.appendingPathComponent("nmea-rtk.log")

    @Test func fixesAgreeWithOurOwnDecodingOfTheCapture() async throws {
        let expected = NMEADecoder.decode(try Data(contentsOf: Self.capture)).fixes
        let byTime = Dictionary(expected.compactMap { f in f.time.map { ($0, f) } }, uniquingKeysWith: { a, _ in a })
        let feed = try NMEAFeedServer(capture: Self.capture)
        defer { feed.stop() }
        let port = LoopbackPort.free()
        let daemon = try Self.startGPSD(port: port, feed: feed.port)
        defer { daemon.stop() }

        let (_, received, consumer) = Self.consume(port: port)
        defer { consumer.cancel() }

        let enough = await received.wait(timeout: .seconds(30)) { $0.count >= expected.count - 1 }
        #expect(enough, "fixes through gpsd: \(received.items.count) of \(expected.count)")
        var matched = 0
        // gpsd, like our decoder, knows no date before the first RMC: those TPVs carry no time.
        let untimed = received.items.prefix { $0.time == nil }.count
        #expect(untimed <= 2)
        for fix in received.items.dropFirst(untimed) {
            let time = try #require(fix.time)
            let ours = try #require(byTime[time], "gpsd reported \(time.iso8601), which our decoder has no cycle for")
            #expect(fix.mode == ours.mode)
            #expect(abs(fix.latitude! - ours.latitude!) <= 1e-7 && abs(fix.longitude! - ours.longitude!) <= 1e-7)
            #expect(abs(fix.altitudeMSL! - ours.altitudeMSL!) <= 0.01)
            #expect(abs(fix.speed! - ours.speed!) <= 0.01)
            #expect(fix.quality == .dgps || fix.quality == .rtkFixed)
            matched += 1
        }
        let times = received.items.compactMap(\.time)
        #expect(times == times.sorted() && Set(times).count == times.count, "one fix per cycle, in order")
        print("gpsd source: \(matched) fixes through a real gpsd matched our decoding of \(Self.capture.lastPathComponent) (\(expected.count) cycles)")
    }

    @Test func reconnectsWhenGPSDRestarts() async throws {
        let feed = try NMEAFeedServer(capture: Self.capture)
        defer { feed.stop() }
        let port = LoopbackPort.free()
        var daemon = try Self.startGPSD(port: port, feed: feed.port)
        defer { daemon.stop() }

        let (logs, received, consumer) = Self.consume(port: port)
        defer { consumer.cancel() }

        #expect(await received.wait(timeout: .seconds(30)) { $0.count >= 10 })
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(10)) != nil)
        #expect(await logs.wait(timeout: .seconds(10)) { $0.contains { $0.message.hasPrefix("gpsd connection lost") } })
        let before = received.items.count

        daemon = try Self.startGPSD(port: port, feed: feed.port)
        #expect(await logs.wait(timeout: .seconds(20)) { $0.contains { $0.message.hasPrefix("gpsd back") } })
        #expect(await received.wait(timeout: .seconds(30)) { $0.count >= before + 10 }, "no fixes after gpsd came back")
        #expect(await feed.connections.wait(timeout: .seconds(1)) { $0.count == 2 })
        // A dying gpsd may still accept one more connection, so there can be more than one
        // outage; each loss and each return is logged once, and every loss has its return.
        let messages = logs.items.map(\.message)
        let losses = messages.filter { $0.hasPrefix("gpsd connection lost") }.count
        #expect(losses >= 1 && losses <= 3)
        #expect(messages.filter { $0.hasPrefix("gpsd back") }.count == losses)
        #expect(messages.filter { $0.hasPrefix("gpsd unavailable") }.count <= losses + 1)
    }
}
