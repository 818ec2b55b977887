import Foundation
import Logging
import Testing
import TestSupport
@testable import TrackerSystem

@Suite struct JournalLoggingTests {
    @Test func linesCarryPriorityPrefixesForTheJournal() {
        #expect(StderrLogHandler.format(level: .info, message: "first fix", metadata: [:], journal: true, now: nil) == "<6>first fix\n")
        #expect(StderrLogHandler.format(level: .warning, message: "a\nb", metadata: ["device": "/dev/gps0"], journal: true, now: nil)
                == "<4>a\\nb device=/dev/gps0\n")
        // A value cannot start a line of its own, nor forge a journald priority.
        #expect(StderrLogHandler.format(level: .info, message: "zone x\n<0>forged\r\u{1b}[2J", metadata: ["reason": "a\nb"],
                                        journal: true, now: nil) == "<6>zone x\\n<0>forged\\r\\u{1b}[2J reason=a\\nb\n")
        #expect([Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical].map(StderrLogHandler.priority)
                == [7, 7, 6, 5, 4, 3, 2])
        #expect(StderrLogHandler.format(level: .error, message: "x", metadata: [:], journal: false,
                                        now: .init(millisecondsSinceEpoch: 0)) == "1970-01-01T00:00:00.000Z error: x\n")
    }

    @Test func journalStreamMustNameStderr() {
        #expect(!StderrLogHandler.stderrIsJournal(environment: nil))
        #expect(!StderrLogHandler.stderrIsJournal(environment: "garbage"))
        #expect(!StderrLogHandler.stderrIsJournal(environment: "1:1"))
    }

    /// trackerd with stderr on a file, once with $JOURNAL_STREAM naming that file (as systemd
    /// sets it when stderr is the journal) and once without.
    @Test(arguments: [true, false])
    func trackerdUsesPrefixesOnlyWhenStderrIsTheJournal(journal: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let stderrFile = dir.file("stderr.log")
        #expect(FileManager.default.createFile(atPath: stderrFile.path, contents: nil))
        var info = stat()
        #expect(stat(stderrFile.path, &info) == 0)
        let drive = dir.file("short.nmea")
        try TrackerdBinary.seedDriveCut(080320...080330, into: drive)
        let environment = journal ? ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"] : ["JOURNAL_STREAM": ""]
        let run = try TrackerdBinary.start(["run", "--replay", drive.path, "--replay-speed", "0"], environment: environment,
                                           stderrPath: stderrFile.path)
        #expect(await run.waitForExit(timeout: .seconds(20)) == 0)
        let lines = try String(contentsOf: stderrFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 4)
        if journal {
            #expect(lines.allSatisfy { $0.hasPrefix("<6>") || $0.hasPrefix("<5>") || $0.hasPrefix("<4>") })
            #expect(lines.contains { $0.hasPrefix("<6>first fix: 3D") })
        } else {
            #expect(lines.allSatisfy { $0.hasPrefix("20") && ($0.contains("Z info: ") || $0.contains("Z notice: ")) })
            #expect(lines.contains { $0.contains("Z notice: TripStart at ") }, "a trip starts with the drive")
        }
    }
}

/// Under the journal, the events an operator filters on arrive as native journal entries with
/// fields (TRACKERD_EVENT=, ZONE=, ...), on a socket the test owns in journald's place.
@Suite struct JournalFieldsTests {
    @Test func eventsCarryStructuredFields() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try NotifySocket(directory: dir)
        defer { journal.close() }
        let stderrFile = dir.file("stderr.log")
        #expect(FileManager.default.createFile(atPath: stderrFile.path, contents: nil))
        var info = stat()
        #expect(stat(stderrFile.path, &info) == 0)
        let drive = dir.file("gap.nmea")
        try TrackerdBinary.seedDriveCut(081450...081610, into: drive)
        let config = dir.file("t.toml")
        try """
        [gps]
        stale_after_s = 1
        [store]
        dir = "\(dir.path)/state"
        [[geofence]]
        name = "depot"
        box = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }
        """.write(to: config, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", config.path, "--replay", drive.path, "--replay-speed", "20"],
                                           environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)", "TRACKERD_JOURNAL_SOCKET": journal.path],
                                           stderrPath: stderrFile.path)
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        let entries = journal.messages.items
        #expect(entries.contains { $0.contains("TRACKERD_EVENT=fix-lost\n") && $0.contains("PRIORITY=4\n") && $0.hasPrefix("MESSAGE=fix lost") })
        #expect(entries.contains { $0.contains("TRACKERD_EVENT=fix-regained\n") })
        #expect(entries.contains { $0.contains("TRACKERD_EVENT=geofence\n") && $0.contains("ZONE=depot\n") && $0.contains("STATE=OutOfBoundary\n") },
                "\(entries)")
        let lines = try String(contentsOf: stderrFile, encoding: .utf8).split(separator: "\n")
        #expect(!lines.contains { $0.contains("fix lost") }, "an event goes to the journal once, not also through stderr")
        #expect(lines.allSatisfy { $0.hasPrefix("<") })
    }

    @Test func theEntryFormat() {
        #expect(JournalSocket.entry(message: "connected to b:8883\nas x", priority: 6, fields: ["event": "connected", "thing": "tracker_1"])
                == "MESSAGE=connected to b:8883\\nas x\nPRIORITY=6\nSYSLOG_IDENTIFIER=trackerd\nTRACKERD_EVENT=connected\nTHING=tracker_1\n")
    }
}
