import Foundation
import Testing
import TestSupport

@Suite struct RunCommandTests {
    func config(_ dir: TemporaryDirectory, _ text: String) throws -> String {
        let file = dir.file("trackerd.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Through the drive's 60 s without fix (08:15:00 to 08:15:59), replayed 20 times faster.
    @Test func reportsFirstFixLossAndReturn() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let drive = dir.file("gap.nmea")
        try TrackerdBinary.seedDriveCut(081450...081610, into: drive)
        let path = try config(dir, "[gps]\nsource = \"replay\"\nreplay_file = \"\(drive.path)\"\nreplay_speed = 20\nstale_after_s = 1\n")
        let run = try TrackerdBinary.start(["run", "--config", path, "--log-level", "debug"])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        let log = run.stderrLines.items
        defer { if log.count < 30 { print(log.joined(separator: "\n")) } }
        func count(_ text: String) -> Int { log.filter { $0.contains(text) }.count }
        #expect(count("info: first fix: 3D 10.") == 1)
        #expect(count("warning: fix lost: no new fix for 1 s (the receiver reports no fix); last: 3D") == 1)
        #expect(count("info: fix regained after") == 1)
        #expect(count("debug: fix: 3D") == 10 + 11, "every fix at debug level: 08:14:50 to :59 and 08:16:00 to :10")
        #expect(count("info: fix source ended") == 1)
        #expect(log.last?.hasSuffix("info: trackerd stopped") == true)
        let lost = try #require(log.firstIndex { $0.contains("fix lost") })
        let regained = try #require(log.firstIndex { $0.contains("fix regained") })
        #expect(lost < regained)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func stopsCleanlyOnASignalWithinTwoSeconds(signal: Int32) async throws {
        let run = try TrackerdBinary.start(["run", "--replay", TrackerdBinary.seedDrive.path])
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("first fix") } })
        let start = ContinuousClock.now
        run.signal(signal)
        let status = await run.waitForExit(timeout: .seconds(10))
        #expect(status == 0, "exit status \(String(describing: status)) after signal \(signal)")
        // Timed by the reaper thread: other tests keeping this process's task pool busy do not
        // count against trackerd.
        let exitedAt = try #require(run.exitedAt)
        #expect(start.duration(to: exitedAt) < .seconds(2))
        #expect(run.stderrLines.items.last?.hasSuffix("trackerd stopped") == true)
    }

    @Test func anInvalidConfigStopsWithExitCode78AndSaysWhere() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try config(dir, "[gps]\nsource = \"serial\"\nbaud = 12\n")
        let run = try TrackerdBinary.start(["run", "--config", path])
        #expect(await run.waitForExit(timeout: .seconds(10)) == 78)
        #expect(run.stderrLines.items.contains { $0.hasSuffix("error: configuration: \(path):3: gps.baud: 12 is not a supported baud rate (4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)") })
    }

    @Test func readsASerialReceiverNamedInTheConfig() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let path = try config(dir, "[gps]\nsource = \"serial\"\ndevice = \"\(pty.slavePath)\"\nbaud = 4800\n")
        let run = try TrackerdBinary.start(["run", "--config", path])
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("reading NMEA from serial \(pty.slavePath) at 4800 baud") } })
        let drive = try Data(contentsOf: TrackerdBinary.seedDrive).prefix(2000)
        pty.write(Array(drive))
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("first fix: 3D 10.150023,10.150027") } })
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(2)) == 0)
    }
}

/// The daemon's loop serves the serial port itself (no reader thread): an unplug and a replug
/// behind the udev-style name, through `trackerd run`.
@Suite struct ServedSerialRunTests {
    @Test func theLoopReopensAReceiverThatWasUnpluggedAndReadsOn() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var pty = try PseudoTerminal()
        let link = dir.file("gps0").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: pty.slavePath)
        let file = dir.file("trackerd.toml")
        try "[gps]\nsource = \"serial\"\ndevice = \"\(link)\"\nbaud = 9600\nstale_after_s = 0.5\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", file.path])
        defer { run.stop() }
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("reading NMEA from serial \(link) at 9600 baud") } })
        let lines = [UInt8](try Data(contentsOf: TrackerdBinary.seedDrive)).split(separator: 0x0A, omittingEmptySubsequences: true)
        func cycles(_ range: Range<Int>) -> [UInt8] { lines[(range.lowerBound * 4)..<(range.upperBound * 4)].flatMap { Array($0) + [0x0A] } }
        pty.write(cycles(0..<10))
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("first fix: 3D") } })
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/task").map {
            (try? String(contentsOfFile: "/proc/\(run.pid)/task/\($0)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(threads.contains("trackerd-loop") && !threads.contains("trackerd-gps"), "the loop reads the port: \(threads)")

        // Unplug: the name goes, then the tty.
        try FileManager.default.removeItem(atPath: link)
        pty.close()
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("GPS receiver lost") } })
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("fix lost: no new fix for 0.5 s") } })

        // Replug: a new tty behind the same name, and the fixes go on.
        pty = try PseudoTerminal()
        defer { pty.close() }
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: pty.slavePath)
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("GPS receiver back") } })
        pty.write(cycles(10..<20))
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("fix regained") } },
                "\(run.stderrLines.items.suffix(5))")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(3)) == 0)
        #expect(run.stderrLines.items.contains { $0.contains("serial source stopped") })
    }
}

@Suite struct BoardProfileRunTests {
    /// `--board`: the profile's port and baud are used, and its init commands reach the receiver.
    @Test func aBoardProfileConfiguresThePortAndInitialisesTheReceiver() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let written = EventLog<[UInt8]>()
        let master = pty.master
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 1024)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                written.append(Array(buffer[0..<n]))
            }
        }
        try """
        name = "test-board"
        uart = false
        config_txt = []
        [gps]
        source = "serial"
        device = "\(pty.slavePath)"
        baud = 38400
        [init]
        nmea = ["$PMTK220,1000*1F"]
        ubx = ["B5 62 06 08 06 00 E8 03 01 00 01 00 01 39"]
        """.write(to: dir.file("test-board.toml"), atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--board", "test-board"], environment: ["TRACKERD_BOARDS_DIR": dir.path])
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("reading NMEA from serial \(pty.slavePath) at 38400 baud") } })
        let nmea = Array("$PMTK220,1000*1F\r\n".utf8)
        let ubx: [UInt8] = [0xB5, 0x62, 0x06, 0x08, 0x06, 0x00, 0xE8, 0x03, 0x01, 0x00, 0x01, 0x00, 0x01, 0x39]
        #expect(await written.wait(timeout: .seconds(10)) { chunks in
            let bytes = chunks.flatMap { $0 }
            return bytes.count >= nmea.count + ubx.count
        })
        let bytes = written.items.flatMap { $0 }
        #expect(Array(bytes.prefix(nmea.count + ubx.count)) == nmea + ubx, "the NMEA command, then the UBX frame, byte for byte")
        #expect(run.stderrLines.items.contains { $0.contains("sent 2 init commands to the receiver") })
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(3)) == 0)
    }
}

/// The campaign's killer sentence through the executable's two file paths: counted, skipped,
/// and the fixes around it still come out.
@Suite struct HostileSentenceTests {
    static let killer = "$GPZDA,120000.00,01,01,300000000,00,00*56"

    static func drive(_ dir: TemporaryDirectory) throws -> URL {
        let cut = dir.file("cut.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: cut)
        var text = try String(contentsOf: cut, encoding: .utf8)
        text = Self.killer + "\r\n" + text + Self.killer + "\r\n"
        let drive = dir.file("hostile.nmea")
        try text.write(to: drive, atomically: true, encoding: .utf8)
        return drive
    }

    @Test func decodeCountsItAsMalformed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try TrackerdBinary.start(["decode", try Self.drive(dir).path])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        #expect(run.stdoutLines.items.count == 10)
        #expect(run.stderrLines.items.last?.hasSuffix("10 fixes, 0 no-fix, rejected 2 (malformed 2)") == true, "\(run.stderrLines.items)")
    }

    @Test func runReplaysPastIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try TrackerdBinary.start(["run", "--replay", try Self.drive(dir).path, "--replay-speed", "0", "--log-level", "debug"])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        #expect(run.stderrLines.items.filter { $0.contains("debug: fix: 3D") }.count == 10)
    }
}
