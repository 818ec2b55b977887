import Foundation
import Logging
import Testing
import TestSupport
import TrackerCore
@testable import GPSSources

/// The serial source over a real pty pair, reached through a symlink the way udev's /dev/gps0
/// reaches the real tty, so that an unplug and replug can swap the tty behind the name.
@Suite struct SerialFixSourceTests {
    static func seedDrive() throws -> (bytes: [UInt8], fixes: [Fix]) {
        let bytes = [UInt8](try Data(contentsOf: SharedTestData.tracks.appendingPathComponent("seed-drive.nmea")))
        return (bytes, NMEADecoder.decode(bytes).fixes)
    }

    /// Lines `range` of the drive (one cycle is four lines).
    static func cycles(_ bytes: [UInt8], _ range: Range<Int>) -> [UInt8] {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
        return lines[(range.lowerBound * 4)..<(range.upperBound * 4)].flatMap { Array($0) + [0x0A] }
    }

    @Test func readsFixesAndSurvivesAnUnplug() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (drive, expected) = try Self.seedDrive()
        let byTime = Dictionary(expected.map { ($0.time!, $0) }, uniquingKeysWith: { a, _ in a })

        var pty = try PseudoTerminal()
        let link = dir.file("gps0").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: pty.slavePath)

        let logs = EventLog<CapturingLogHandler.Entry>()
        let source = SerialFixSource(path: link, baud: 9600, logger: CapturingLogHandler.logger(logs),
                                     backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(200)))
        let received = EventLog<Fix>()
        let consumer = Task { for await fix in source.fixes() { received.append(fix) } }
        defer { consumer.cancel() }

        // Generous: with the whole suite running in parallel on two cores the reader thread can wait long for its turn.
        #expect(await logs.wait(timeout: .seconds(30)) { $0.contains { $0.message.hasPrefix("reading NMEA from serial") } })
        let first = pty
        Thread.detachNewThread { first.write(Self.cycles(drive, 0..<200)) }
        #expect(await received.wait(timeout: .seconds(20)) { $0.count >= 200 }, "fixes before the unplug: \(received.items.count)")

        // Unplug: the name goes first (as udev removes /dev/gps0), then the tty (EIO on the
        // slave). The name must not dangle: tests running in parallel make ptys of their own,
        // and one could get this pty's number while the reader tries the old path again.
        try FileManager.default.removeItem(atPath: link)
        pty.close()
        #expect(await logs.wait(timeout: .seconds(10)) { $0.contains { $0.message.hasPrefix("GPS receiver lost") } })

        // Replug: a new tty behind the same name.
        pty = try PseudoTerminal()
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: pty.slavePath)
        #expect(await logs.wait(timeout: .seconds(10)) { $0.contains { $0.message.hasPrefix("GPS receiver back") } })
        let second = pty
        Thread.detachNewThread { second.write(Self.cycles(drive, 200..<400)) }
        #expect(await received.wait(timeout: .seconds(20)) { $0.count >= 400 }, "fixes after the replug: \(received.items.count)")
        let messages = logs.items.map(\.message)
        await Self.finish(consumer, logs, closing: pty)

        let fixes = received.items
        #expect(fixes.count == 400)
        for fix in fixes {
            let truth = try #require(byTime[fix.time!])
            #expect(fix == truth, "a fix over the pty differs from the file's decoding")
        }
        #expect(fixes.map(\.time) == expected[0..<400].map(\.time), "in order, none lost, none repeated")
        #expect(messages.filter { $0.hasPrefix("GPS receiver lost") }.count == 1, "each loss logged once")
        #expect(messages.filter { $0.hasPrefix("GPS receiver back") }.count == 1, "each return logged once")
        #expect(messages.filter { $0.hasPrefix("GPS receiver unavailable") }.count <= 1)
    }

    @Test func aMissingDeviceIsRetriedUntilItAppears() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let link = dir.file("gps0").path
        let logs = EventLog<CapturingLogHandler.Entry>()
        let source = SerialFixSource(path: link, baud: 4800, logger: CapturingLogHandler.logger(logs),
                                     backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(100)))
        let received = EventLog<Fix>()
        let consumer = Task { for await fix in source.fixes() { received.append(fix) } }

        #expect(await logs.wait(timeout: .seconds(15)) { $0.contains { $0.message.contains("No such file or directory") } })
        #expect(await logs.wait(timeout: .seconds(15)) { entries in entries.filter { $0.message.hasPrefix("reopening") }.count >= 3 })
        let pty = try PseudoTerminal()
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: pty.slavePath)
        #expect(await logs.wait(timeout: .seconds(15)) { $0.contains { $0.message.hasPrefix("reading NMEA from serial") } })
        let (drive, _) = try Self.seedDrive()
        pty.write(Self.cycles(drive, 0..<5))
        #expect(await received.wait(timeout: .seconds(15)) { $0.count == 5 })
        #expect(logs.items.filter { $0.message.hasPrefix("GPS receiver unavailable") }.count == 1)
        await Self.finish(consumer, logs, closing: pty)
    }

    /// The fault campaign's killer sentence arrives over the UART between good cycles: the
    /// reader counts it and goes on.
    @Test func aHostileSentenceOverTheWireIsSkipped() async throws {
        let pty = try PseudoTerminal()
        let logs = EventLog<CapturingLogHandler.Entry>()
        let source = SerialFixSource(path: pty.slavePath, baud: 9600, logger: CapturingLogHandler.logger(logs))
        let received = EventLog<Fix>()
        let consumer = Task { for await fix in source.fixes() { received.append(fix) } }
        #expect(await logs.wait(timeout: .seconds(15)) { $0.contains { $0.message.hasPrefix("reading NMEA") } })
        let (drive, expected) = try Self.seedDrive()
        let killer = Array("$GPZDA,120000.00,01,01,300000000,00,00*56\r\n".utf8)
        pty.write(killer + Self.cycles(drive, 0..<3) + killer + Self.cycles(drive, 3..<6))
        #expect(await received.wait(timeout: .seconds(15)) { $0.count >= 5 })
        #expect(received.items.map(\.time) == expected[0..<received.items.count].map(\.time))
        await Self.finish(consumer, logs, closing: pty)
    }

    /// A UART hands a cycle over in pieces: the reader, once bytes came, reads again when the
    /// rest of the cycle has had the time to come (as long as the last one, at the line's rate;
    /// `gather` before one was measured) instead of at the next piece, and watches the port
    /// again once a cycle is out (its learned last sentence came: nothing to wait for, nothing
    /// to flush) or a read finds nothing. The fixes are the file's. (Driven by hand, on its own
    /// clock.)
    @Test func aTalkingReceiverIsReadWhenItsCycleHasHadTheTimeNotAtEveryPiece() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let gather = Duration.milliseconds(100)
        let source = SerialFixSource(path: pty.slavePath, baud: 9600, logger: CapturingLogHandler.logger(EventLog()),
                                     idleFlush: .milliseconds(300), gather: gather)
        let reader = try #require(source.makeReader() as? SerialFixReader)
        defer { reader.close() }
        let start = MonotonicInstant.now
        #expect(reader.serve(now: start).fixes.isEmpty)
        let port = reader.descriptor
        #expect(port >= 0 && reader.serveBy == nil, "open and silent: the port is watched, nothing is due")

        let (drive, expected) = try Self.seedDrive()
        var fixes: [Fix] = []
        var now = start
        var gathered = 0, closed = 0, measured = 0
        var cycleBytes = 0
        var lastCycleBytes: Int?
        func read(_ bytes: [UInt8]) {
            pty.write(bytes)
            var ready = pollfd(fd: port, events: Int16(POLLIN), revents: 0)
            #expect(poll(&ready, 1, 5000) == 1)
            now = now + .milliseconds(10)
            let out = reader.serve(now: now).fixes
            fixes += out
            cycleBytes += bytes.count
            if reader.descriptor == -1 {
                // The rest of a cycle as long as the last one, at 9600 baud (10 bits a byte),
                // with 20 ms to spare; a gather while none was measured.
                var wait = gather
                if let last = lastCycleBytes, last > cycleBytes {
                    wait = min(.nanoseconds(Int64(last - cycleBytes) * 10 * 1_000_000_000 / 9600) + .milliseconds(20), .seconds(1))
                    measured += 1
                }
                // (or at the idle flush's time, if that comes first: a read then that finds more
                // goes on waiting, one that finds none hands the cycle out)
                #expect(reader.serveBy == now + min(wait, .milliseconds(300)), "bytes came, a cycle is open: read again when the rest has had the time")
                gathered += 1
            } else {
                #expect(reader.descriptor == port && reader.serveBy == nil && !out.isEmpty, "a cycle came out: watched, nothing due")
                closed += 1
                lastCycleBytes = cycleBytes
                cycleBytes = 0
            }
        }
        // A receiver sends a cycle, then waits for the next second: pieces of one cycle each.
        for cycle in 0..<10 {
            for piece in Self.cycles(drive, cycle..<(cycle + 1)).chunks(of: 37) { read(Array(piece)) }
        }
        #expect(gathered > 40 && closed >= 7 && measured > 30, "gathered \(gathered), closed \(closed), measured \(measured)")
        #expect(fixes == Array(expected[0..<10]), "every cycle out without a flush")

        // A cycle cut short: the read that finds nothing watches the port again, and the flush
        // hands the open cycle out after the idle time.
        read(Array(Self.cycles(drive, 10..<11).prefix(100)))
        let lastBytesAt = now
        now = try #require(reader.serveBy)
        fixes += reader.serve(now: now).fixes
        #expect(reader.descriptor == port && reader.serveBy == lastBytesAt + .milliseconds(300))
        fixes += reader.serve(now: now + .milliseconds(300)).fixes
        #expect(fixes.map(\.time) == expected[0..<11].map(\.time))
    }

    @Test func stoppingTheConsumerStopsTheReader() async throws {
        let pty = try PseudoTerminal()
        let logs = EventLog<CapturingLogHandler.Entry>()
        let source = SerialFixSource(path: pty.slavePath, baud: 115200, logger: CapturingLogHandler.logger(logs))
        let consumer = Task { for await _ in source.fixes() {} }
        #expect(await logs.wait(timeout: .seconds(15)) { $0.contains { $0.message.hasPrefix("reading NMEA") } })
        consumer.cancel()
        #expect(await logs.wait(timeout: .seconds(2)) { $0.contains { $0.message.hasPrefix("serial source stopped") } })
        pty.close()
    }

    /// Stops the reader, and only then unplugs: a pty closed under a running reader frees its
    /// number, which a test running in parallel may be given while the reader tries the path
    /// again — and the reader then takes that test's bytes. (A test that fails before this
    /// keeps its pty open: harmless.)
    static func finish(_ consumer: Task<Void, Never>, _ logs: EventLog<CapturingLogHandler.Entry>, closing pty: PseudoTerminal) async {
        consumer.cancel()
        _ = await logs.wait(timeout: .seconds(5)) { $0.contains { $0.message.hasPrefix("serial source stopped") } }
        pty.close()
    }
}

private extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
