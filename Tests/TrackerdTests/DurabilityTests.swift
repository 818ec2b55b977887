import Foundation
import Testing
import TestSupport
import TrackerCore
import TrackerStorage

/// The fault campaign's durability findings, against the real executable, a real broker and
/// real files: a store that will not open, a hung broker, a persistent drop count, a read-only
/// `queue stats`.
@Suite struct DurabilityTests {
    typealias Setup = PublishingTests.Setup

    static func fixes(_ run: ChildProcess) -> Int { PublishingTests.count(run, "debug: fix:") }

    /// The state directory cannot be created at start (its parent is a file). trackerd runs on
    /// in memory, says so in the journal and in `trackerd status`, retries with backoff, and
    /// once the directory can be made writes everything it holds: a kill then loses nothing.
    @Test func aStoreThatWillNotOpenIsRetriedUntilItWorks() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let blocker = setup.dir.file("blocker")
        try Data("not a directory".utf8).write(to: blocker)
        let runtime = setup.dir.file("run").path
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080419, into: drive)
        let expected = try PublishingTests.expectedPayloads(drive)
        let config = try setup.config(replay: drive, speed: 5, queue: "commit_interval_s = 0.5", storeDirectory: blocker.path + "/state")

        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("the queue is kept in memory only") } })
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in lines.filter { $0.contains("debug: fix:") }.count >= 10 })
        let status = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await status.waitForExit(timeout: .seconds(10)) == 0)
        #expect(status.stdoutLines.items.contains { $0.hasPrefix("storage: MEMORY ONLY since 20") && $0.contains("Not a directory") },
                "\(status.stdoutLines.items)")

        try FileManager.default.removeItem(at: blocker)
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        #expect(await run.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("queue storage recovered") } },
                "\(run.stderrLines.items.suffix(5))")
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in
            guard let end = lines.firstIndex(where: { $0.contains("fix source ended") }) else { return false }
            // A commit that wrote something: the store's reopening commits nothing ("0 written,
            // 0 removed"), and under load it can come after the end of the source.
            return lines[end...].contains { $0.contains("queue committed:") && !$0.contains("queue committed: 0 written, 0 removed") }
        })
        run.signal(SIGKILL)
        _ = await run.waitForExit(timeout: .seconds(5))
        #expect(PublishingTests.count(run, "the queue is kept in memory only") == 1, "one line when it starts, not one per retry")

        let stored = try SQLiteQueueStore(path: blocker.path + "/state/queue.db").loadAll()
        #expect(stored.map { String(decoding: $0.payload, as: UTF8.self) } == expected, "everything held in memory reached the disk, in order")
    }

    /// A real full disk (a tmpfs filled to the last block), at start or while trackerd runs
    /// offline, then freed: memory only, then the store opens (or commits) on a retry, takes
    /// everything held in memory, and commits go on; a kill after that loses nothing.
    ///
    /// The receiver is a pty written by the test, so that the disk fills while fixes are still
    /// to come however loaded the machine is (a replay could end before the fill).
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root (as in CI)"), arguments: ["at start", "while running"])
    func aFullDiskIsSurvivedAndCommitsResumeWhenSpaceReturns(when: String) async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let tmpfs = try SmallTmpfs(at: setup.dir.file("small").path, size: "256k")
        defer { tmpfs.unmount() }
        if when == "at start" { tmpfs.fill() }
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let (parts, drive) = try setup.driveParts([080320...080339, 080340...080459])
        let expected = try PublishingTests.expectedPayloads(drive)
        let config = try setup.config(replay: drive, gps: setup.serial(pty), queue: "commit_interval_s = 0.5",
                                      storeDirectory: tmpfs.path + "/state")
        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        defer { run.signal(SIGKILL) }
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("reading NMEA from serial \(pty.slavePath)") } })
        pty.write(Array(parts[0]))
        if when == "while running" {
            // A commit that wrote fixes: the disk fills with the store open and in use.
            #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in
                lines.contains { $0.contains("queue committed: ") && !$0.contains("queue committed: 0 written") }
            })
            tmpfs.fill()
        }
        pty.write(Array(parts[1]))
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("the queue is kept in memory only") } },
                "\(run.stderrLines.items.filter { !$0.contains("debug: fix") }.suffix(5))")
        #expect(await run.stderrLines.wait(timeout: .seconds(30)) { lines in lines.filter { $0.contains("debug: fix:") }.count >= expected.count })
        tmpfs.free()
        #expect(await run.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("queue storage recovered") } },
                "\(run.stderrLines.items.filter { !$0.contains("debug: fix") }.suffix(5))")
        // Offline nothing is removed and a failed commit is not logged, so the commits' "N
        // written" add up to every fix once all of them are on disk.
        #expect(await run.stderrLines.wait(timeout: .seconds(30)) { lines in
            lines.compactMap { line in
                line.range(of: "queue committed: ").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
            }.reduce(0, +) >= expected.count
        }, "\(run.stderrLines.items.filter { $0.contains("queue committed") }.suffix(5))")
        run.signal(SIGKILL)
        _ = await run.waitForExit(timeout: .seconds(5))
        let stored = try SQLiteQueueStore(path: tmpfs.path + "/state/queue.db").loadAll()
        #expect(stored.map { String(decoding: $0.payload, as: UTF8.self) } == expected)
        print("full disk \(when): \(expected.count) fixes, all on disk after space returned")
    }

    /// A broker that keeps the connection and stops acknowledging (SIGSTOP). spill_after_s is
    /// 60 s here, so without the stall rule nothing produced during the hang would be on disk;
    /// with it, a kill loses at most commit_interval_s + 2.5 s of fixes (the README's bound).
    @Test func aHungBrokerIsTreatedAsOfflineForSpilling() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(PublishingTests.fixTopics)
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080559, into: drive)
        let expected = try PublishingTests.expectedPayloads(drive)
        let speed = 5.0
        let config = try setup.config(replay: drive, speed: speed, queue: "commit_interval_s = 1\nspill_after_s = 60")
        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(20)) { PublishingTests.received($0).count >= 10 })

        setup.broker.process?.signal(SIGSTOP)
        let atHang = Self.fixes(run)
        #expect(await run.stderrLines.wait(timeout: .seconds(30)) { lines in lines.filter { $0.contains("debug: fix:") }.count >= atHang + 40 })
        run.signal(SIGKILL)
        _ = await run.waitForExit(timeout: .seconds(5))
        let produced = Self.fixes(run)
        setup.broker.process?.signal(SIGCONT)

        let received = Set(PublishingTests.received(subscriber))
        let stored = Set(try SQLiteQueueStore(path: setup.dir.path + "/state/queue.db").loadAll().map { String(decoding: $0.payload, as: UTF8.self) })
        let lost = expected.prefix(produced).filter { !received.contains($0) && !stored.contains($0) }
        // commit_interval_s + 2 s + one 0.5 s tick at 5 fixes/s, and one fix of slack for the kill.
        let bound = Int((1 + 2 + 0.5) * speed) + 1
        print("hung broker: \(produced - atHang) fixes during the hang, \(lost.count) lost at the kill (bound \(bound))")
        #expect(lost.count <= bound)
        #expect(Array(expected.prefix(produced).suffix(lost.count)) == lost, "only the newest can be lost")
    }

    /// The broker hangs with a full window in flight, is killed and comes back. Only trackerd's
    /// queue resends: every fix arrives exactly once (a reused libmosquitto client resent its
    /// in-flight messages as well, one duplicate each).
    @Test func messagesInFlightAtAnOutageArriveExactlyOnce() async throws {
        let setup = try await Setup.make(persistence: true, packets: true)
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(PublishingTests.fixTopics, clientID: "once-subscriber", persistentSession: true)
        // A clean stop saves the subscription, so that it outlives the SIGKILL below.
        await setup.broker.stop()
        try await setup.broker.start()
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(20)) { lines in lines.filter { $0.contains("CONNACK") }.count >= 2 })
        // The receiver is a pty written by the test: 10 fixes before the hang and 30 during it,
        // however loaded the machine is.
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let (parts, drive) = try setup.driveParts([080320...080329, 080330...080359, 080400...080439])
        let expected = try PublishingTests.expectedPayloads(drive)
        let config = try setup.config(replay: drive, gps: setup.serial(pty))
        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        defer { run.signal(SIGTERM) }
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("connected to localhost") } })
        pty.write(Array(parts[0]))
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(20)) { PublishingTests.received($0).count >= 10 })
        // The ten were all acknowledged before the hang (the broker has sent a PUBACK for each
        // PUBLISH of trackerd's): the subscriber can see the tenth before its PUBACK goes, and a
        // resend of that one would be at-least-once, not a loss.
        let brokerLog = try #require(setup.broker.process).stderrLines
        #expect(await brokerLog.wait(timeout: .seconds(10)) { lines in
            let published = lines.filter { $0.contains("Received PUBLISH from 1 (") && $0.contains(", q1,") }
            return published.filter { $0.contains("'gpsTopic'") }.count >= 10
                && lines.filter { $0.contains("Sending PUBACK to 1 (") }.count >= published.count
        }, "the first ten were acknowledged")

        setup.broker.process?.signal(SIGSTOP)
        let atHang = Self.fixes(run)
        pty.write(Array(parts[1]))
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in lines.filter { $0.contains("debug: fix:") }.count >= atHang + 30 })
        setup.broker.process?.signal(SIGKILL)
        await setup.broker.stop()
        try await setup.broker.start()
        // mosquitto_sub gives up when its broker dies (or would fight a second one for the client
        // id); its session, saved by the clean stop, keeps what arrives meanwhile for that id.
        subscriber.stop()
        let before = PublishingTests.received(subscriber)
        let after = try await setup.broker.subscribe(PublishingTests.fixTopics, clientID: "once-subscriber", persistentSession: true)
        pty.write(Array(parts[2]))

        #expect(await after.stdoutLines.wait(timeout: .seconds(30)) { Set(before + PublishingTests.received($0)).count >= expected.count },
                "\(run.stderrLines.items.suffix(5))")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(10)) == 0)
        let received = before + PublishingTests.received(after)
        var seen = Set<String>()
        let duplicates = received.filter { !seen.insert($0).inserted }
        print("outage with a full window in flight: \(expected.count) fixes, \(duplicates.count) duplicates")
        #expect(Set(received) == Set(expected))
        #expect(duplicates.isEmpty)
    }

    /// kill -9 at seeded random moments with both durabilities, offline: the store always opens
    /// sound, holds its fixes in order, and loses at most the bound (every-message: nothing
    /// logged as a fix; batched offline: the last commit_interval_s + 0.5 s of fixes).
    @Test(arguments: [("every-message", UInt64(1)), ("every-message", 2), ("every-message", 3),
                      ("batched", 1), ("batched", 2), ("batched", 3)])
    func aKillAtARandomMomentLosesNoMoreThanTheBound(durability: String, seed: UInt64) async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        var random = SeededGenerator(seed: seed)
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080559, into: drive)
        let expected = try PublishingTests.expectedPayloads(drive)
        let speed = 20.0, interval = 0.5
        let config = try setup.config(replay: drive, speed: speed,
                                      queue: "durability = \"\(durability)\"\ncommit_interval_s = \(interval)")
        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        let killAt = Int.random(in: 5...100, using: &random)
        #expect(await run.stderrLines.wait(timeout: .seconds(30)) { lines in lines.filter { $0.contains("debug: fix:") }.count >= killAt })
        run.signal(SIGKILL)
        _ = await run.waitForExit(timeout: .seconds(5))
        let logged = Self.fixes(run)

        let store = try SQLiteQueueStore(path: setup.dir.path + "/state/queue.db")
        #expect(store.recovered == nil, "a kill never damages the store")
        let stored = try store.loadAll().map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(stored == Array(expected.prefix(stored.count)), "a prefix of the drive, in order")
        let lost = logged - stored.count
        // Commits happen on the 0.5 s tick: at most commit_interval_s + one tick of fixes.
        let bound = durability == "every-message" ? 0 : Int((interval + 0.5) * speed) + 2
        print("kill -9 (\(durability), seed \(seed)) after \(logged) fixes: \(stored.count) on disk, \(lost) lost (bound \(bound))")
        #expect(lost <= bound)
    }

    /// The drop count lives in the store: a restart adds to it instead of starting at 0.
    @Test func theDropCountSurvivesARestart() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080339, into: drive)
        let config = try setup.config(replay: drive, queue: "max_messages = 10")
        func runOnce() async throws -> String {
            let run = try TrackerdBinary.start(["run", "--config", config])
            #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("fix source ended") } })
            run.signal(SIGTERM)
            #expect(await run.waitForExit(timeout: .seconds(10)) == 0)
            let stats = try TrackerdBinary.start(["queue", "stats", "--config", config, "--json"])
            #expect(await stats.waitForExit(timeout: .seconds(10)) == 0)
            return stats.stdoutLines.items.joined()
        }
        func figures(_ text: String) -> (depth: Int?, dropped: Int?) {
            let report = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return (report?["depth"] as? Int, report?["dropped"] as? Int)
        }
        let first = try await runOnce()
        #expect(figures(first) == (10, 10), "\(first)")
        // 10 restored + 20 new into 10 places: 20 more dropped, 30 in all.
        let second = try await runOnce()
        #expect(figures(second) == (10, 30), "\(second)")
    }

    /// `queue stats` on a damaged database: an error and exit 1, and the file stays where it is.
    @Test func queueStatsNeverTouchesADamagedFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.file("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: state + "/queue.db"))
        let config = dir.file("trackerd.toml")
        try "[store]\ndir = \"\(state)\"\n".write(to: config, atomically: true, encoding: .utf8)
        let stats = try TrackerdBinary.start(["queue", "stats", "--config", config.path])
        #expect(await stats.waitForExit(timeout: .seconds(10)) == 1)
        #expect(stats.stderrLines.items.contains { $0.contains("queue.db") }, "\(stats.stderrLines.items)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state) == ["queue.db"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: state + "/queue.db")) == garbage)
    }
}
