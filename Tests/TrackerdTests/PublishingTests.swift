import Foundation
import Testing
import TestSupport
import TrackerCore
import TrackerStorage

/// `trackerd run` publishing through its durable queue to a real mosquitto (TLS, client
/// certificates), with outages, crashes and bounds.
@Suite struct PublishingTests {
    struct Setup {
        let pki: TestPKI
        let broker: MosquittoBroker
        let dir: TemporaryDirectory

        static func make(persistence: Bool = false, serverCertificate: String = "server", packets: Bool = false) async throws -> Setup {
            let pki = try await TestPKI.make()
            return Setup(pki: pki, broker: try MosquittoBroker(pki: pki, serverCertificate: serverCertificate, persistence: persistence,
                                                               packets: packets),
                         dir: try TemporaryDirectory())
        }

        /// `gps` replaces the replay of `replay` as the `[gps]` section's body.
        func config(replay: URL, speed: Double = 0, gps: String? = nil, extra: String = "", queue: String = "",
                    trailer: String = "", storeDirectory: String? = nil) throws -> String {
            let text = """
            [device]
            id = "1"
            [gps]
            \(gps ?? "source = \"replay\"\nreplay_file = \"\(replay.path)\"\nreplay_speed = \(speed)")
            [mqtt]
            endpoint = "localhost"
            port = \(broker.port)
            ca_file = "\(pki.path("ca.pem"))"
            cert_file = "\(pki.path("client.pem"))"
            key_file = "\(pki.path("client.key"))"
            reconnect_min_s = 0.05
            reconnect_max_s = 0.5
            \(extra)
            [queue]
            \(queue)
            [store]
            dir = "\(storeDirectory ?? dir.path + "/state")"
            [report]
            # These tests count every fix, and nothing else: no trip starts under 50 m/s.
            policy = "every-fix"
            stop_speed_mps = 50
            \(trailer)
            """
            let file = dir.file("trackerd-\(UUID().uuidString.prefix(8)).toml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        /// The seed drive cut into `ranges` (HHMMSS), for a test to write to a pty one part at a
        /// time; `drive` is the whole of them, what trackerd must publish.
        func driveParts(_ ranges: [ClosedRange<Int>]) throws -> (parts: [Data], drive: URL) {
            let parts = try ranges.enumerated().map { n, range in
                let file = dir.file("part\(n).nmea")
                try TrackerdBinary.seedDriveCut(range, into: file)
                return try Data(contentsOf: file)
            }
            let drive = dir.file("drive.nmea")
            try parts.reduce(Data(), +).write(to: drive)
            return (parts, drive)
        }

        /// A `[gps]` body reading the receiver on `pty`.
        func serial(_ pty: PseudoTerminal) -> String {
            "source = \"serial\"\ndevice = \"\(pty.slavePath)\"\nbaud = 9600"
        }

        func remove() {
            dir.remove()
            pki.remove()
        }
    }

    /// What trackerd must publish for `file`: every fix with a position and a time, in gpsInput.
    static func expectedPayloads(_ file: URL) throws -> [String] {
        NMEADecoder.decode(try Data(contentsOf: file)).fixes.compactMap { FixPayload.encode($0, deviceID: "1", format: .gpsInput) }
    }

    /// Where fixes arrive: one by one, and in batches after an outage.
    static let fixTopics = ["gpsTopic", "trackers/1/backlog"]

    static func received(_ subscriber: ChildProcess, topic: String = "gpsTopic") -> [String] {
        received(subscriber.stdoutLines.items, topic: topic)
    }

    /// The payloads on `topic`; for the fix topic, every fix in arrival order, backlog batches
    /// unpacked into the gpsInput objects they carry (byte for byte).
    static func received(_ lines: [String], topic: String = "gpsTopic") -> [String] {
        guard topic == "gpsTopic" else { return lines.filter { $0.hasPrefix(topic + " ") }.map { String($0.dropFirst(topic.count + 1)) } }
        return lines.flatMap { line -> [String] in
            if line.hasPrefix("gpsTopic ") { return [String(line.dropFirst(9))] }
            return backlogFixes(line)
        }
    }

    /// The fixes of one `trackers/1/backlog {"deviceId":"1","fixes":[...]}` line (gpsInput
    /// objects are flat: they split at "},{").
    static func backlogFixes(_ line: String) -> [String] {
        let head = #"trackers/1/backlog {"deviceId":"1","fixes":["#
        guard line.hasPrefix(head), line.hasSuffix("]}") else { return [] }
        let body = line.dropFirst(head.count).dropLast(2)
        return body.components(separatedBy: "},{").enumerated().map { n, part in
            let count = body.components(separatedBy: "},{").count
            return (n == 0 ? "" : "{") + part + (n == count - 1 ? "" : "}")
        }
    }

    /// The order a drain promises: every fix on the backlog topic in the order it was made, and
    /// the single fixes in order but for the newest one put first at each (re)connection.
    static func keepsTheDrainOrder(_ lines: [String], expected: [String], connections: Int) -> Bool {
        let rank = Dictionary(expected.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        let backlog = lines.filter { $0.hasPrefix("trackers/1/backlog ") }.flatMap(backlogFixes)
            .filter { seen.insert($0).inserted }.compactMap { rank[$0] }
        let single = lines.filter { $0.hasPrefix("gpsTopic ") }.map { String($0.dropFirst(9)) }.compactMap { rank[$0] }
        let descents = zip(single, single.dropFirst()).filter { $0 > $1 }.count
        return backlog == backlog.sorted() && descents <= connections
    }

    static func count(_ run: ChildProcess, _ text: String) -> Int {
        run.stderrLines.items.filter { $0.contains(text) }.count
    }

    /// Starts the broker and a subscriber, then trackerd with nothing new to send: it drains
    /// what the last run left on disk and exits. Returns that run and what the subscriber got.
    static func restartOnline(_ setup: Setup, expecting count: Int) async throws -> (ChildProcess, [String]) {
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(Self.fixTopics)
        let empty = setup.dir.file("empty.nmea")
        try Data().write(to: empty)
        let run = try TrackerdBinary.start(["run", "--config", try setup.config(replay: empty)])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(30)) { Self.received($0).count >= count })
        return (run, Self.received(subscriber))
    }

    /// A key or certificate that cannot work is found before the first connection: exit 77 with
    /// what to do, instead of "TLS setup failed" forever.
    @Test(arguments: ["garbage key", "empty certificate", "mismatched pair", "missing key"])
    func unusableCredentialsStopAtStartWith77(case name: String) async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let files = setup.dir.file("credentials").path
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        var certificate = try Data(contentsOf: URL(fileURLWithPath: setup.pki.path("client.pem")))
        var key = try Data(contentsOf: URL(fileURLWithPath: setup.pki.path("client.key")))
        let expected: String
        switch name {
        case "garbage key":
            key = Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            expected = "key.pem holds no PEM private key"
        case "empty certificate":
            certificate = Data()
            expected = "cert.pem holds no PEM certificate"
        case "mismatched pair":
            key = try Data(contentsOf: URL(fileURLWithPath: setup.pki.path("server.key")))
            expected = "cert.pem was not issued for the key"
        default:
            expected = "key.pem"
        }
        try certificate.write(to: URL(fileURLWithPath: files + "/cert.pem"))
        if name != "missing key" { try key.write(to: URL(fileURLWithPath: files + "/key.pem")) }
        chmod(files + "/key.pem", 0o600)
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: drive)
        let config = try setup.config(replay: drive)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: setup.pki.path("client.pem"), with: files + "/cert.pem")
            .replacingOccurrences(of: setup.pki.path("client.key"), with: files + "/key.pem")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", config])
        #expect(await run.waitForExit(timeout: .seconds(20)) == 77)
        let log = run.stderrLines.items
        #expect(log.contains { $0.contains("credentials:") && $0.contains(expected) }, "\(log.suffix(3))")
        #expect(!log.contains { $0.contains("cannot connect") || $0.contains("TLS") })
    }

    @Test func aReplayedTrackArrivesExactlyAndInOrder() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(Self.fixTopics)
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080559, into: drive)
        let expected = try Self.expectedPayloads(drive)
        #expect(expected.count == 160)
        #expect(expected.first == #"{"gpsDeviceID":"1","gpsLat":10.1500233,"gpsLng":10.1500267,"gpsDatTm":"03/02/2020  08:03:20.000"}"#)

        let run = try TrackerdBinary.start(["run", "--config", try setup.config(replay: drive)])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0, "\(run.stderrLines.items.suffix(5))")
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(30)) { Self.received($0).count >= expected.count })
        let received = Self.received(subscriber)
        #expect(received.count == expected.count)
        #expect(Set(received) == Set(expected), "every fix exactly once")
        #expect(Self.keepsTheDrainOrder(subscriber.stdoutLines.items, expected: expected, connections: 1), "\(received.prefix(3))")
        #expect(Self.count(run, "every queued message is acknowledged") == 1)
    }

    /// The receiver is a real pty written by the test, so the fixes before, during and after the
    /// outage are a fixed 20, 30 and 90 however loaded the machine is (a timed replay raced the
    /// broker's stop on a busy CI runner and could end before 30 fixes were made offline).
    @Test func aBrokerOutageLosesNothingAndKeepsTheOrder() async throws {
        let setup = try await Setup.make(persistence: true)
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(Self.fixTopics, clientID: "outage-subscriber", persistentSession: true)
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let (parts, drive) = try setup.driveParts([080320...080339, 080340...080409, 080410...080539])
        let expected = try Self.expectedPayloads(drive)
        let counts = parts.map { NMEADecoder.decode($0).fixes.count }
        #expect(counts == [20, 30, 90] && expected.count == 140)

        let config = try setup.config(replay: drive, gps: setup.serial(pty))
        let run = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        defer { run.signal(SIGTERM) }
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("connected to localhost") } })
        pty.write(Array(parts[0]))
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(20)) { Self.received($0).count >= counts[0] })
        await setup.broker.stop()
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("disconnected from localhost") } })
        pty.write(Array(parts[1]))
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in
            lines.filter { $0.contains("debug: fix:") }.count >= counts[0] + counts[1]
                && lines.contains { $0.contains("cannot connect to localhost") }
        }, "the outage's fixes were made and the outage was seen as failed reconnects")
        try await setup.broker.start()
        pty.write(Array(parts[2]))

        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(30)) { Set(Self.received($0)).count >= expected.count })
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(10)) == 0)
        let received = Self.received(subscriber)
        var seen = Set<String>()
        let firstArrivals = received.filter { seen.insert($0).inserted }
        #expect(firstArrivals.count == expected.count)
        #expect(Set(firstArrivals) == Set(expected), "every fix")
        #expect(Self.keepsTheDrainOrder(subscriber.stdoutLines.items, expected: expected, connections: 2),
                "the backlog in order, the newest fix first at the reconnection")
        print("broker outage: \(expected.count) fixes, \(received.count - firstArrivals.count) duplicates (allowed: at-least-once)")
    }

    @Test func aCrashWhileOfflineLosesNothingCommitted() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080419, into: drive)
        let config = try setup.config(replay: drive, queue: "commit_interval_s = 0.5")
        let first = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        #expect(await first.stderrLines.wait(timeout: .seconds(20)) { lines in
            guard let end = lines.firstIndex(where: { $0.contains("fix source ended") }) else { return false }
            return lines[end...].contains { $0.contains("queue committed:") }
        })
        first.signal(SIGKILL)
        #expect(await first.waitForExit(timeout: .seconds(5)) == 128 + SIGKILL)

        let committed = try SQLiteQueueStore(path: setup.dir.path + "/state/queue.db").loadAll()
            .map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(committed == (try Self.expectedPayloads(drive)), "offline fixes are all committed within one interval")

        let (second, received) = try await Self.restartOnline(setup, expecting: committed.count)
        #expect(Self.count(second, "\(committed.count) queued messages from before the restart are sent first") == 1)
        #expect(received.first == committed.last, "the newest fix first")
        #expect(Array(received.dropFirst()) == Array(committed.dropLast()), "then all the others, in order")
    }

    @Test func everyMessageDurabilityLosesNoFixAtAKill() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080459, into: drive)
        let config = try setup.config(replay: drive, speed: 20, queue: "durability = \"every-message\"\ncommit_interval_s = 3600")
        let first = try TrackerdBinary.start(["run", "--config", config, "--log-level", "debug"])
        #expect(await first.stderrLines.wait(timeout: .seconds(20)) { $0.filter { $0.contains("debug: fix:") }.count >= 25 })
        first.signal(SIGKILL)
        _ = await first.waitForExit(timeout: .seconds(5))
        // A fix is logged only after it was queued, so every logged fix must be on disk.
        let logged = first.stderrLines.items.filter { $0.contains("debug: fix:") }
            .compactMap { $0.split(separator: " at ").last.map(String.init) }
        let stored = try SQLiteQueueStore(path: setup.dir.path + "/state/queue.db").loadAll()
            .map { String(decoding: $0.payload, as: UTF8.self) }
        let storedTimes = Set(stored.compactMap { payload -> String? in
            guard let range = payload.range(of: "\"gpsDatTm\":\"") else { return nil }
            return String(payload[range.upperBound...].prefix(24))
        })
        #expect(logged.count >= 25)
        for time in logged {
            let t = try #require(UTCTimestamp(iso8601: time))
            #expect(storedTimes.contains(FixPayload.gpsDateTime(t)), "fix at \(time) was logged but is not on disk")
        }

        let (_, received) = try await Self.restartOnline(setup, expecting: stored.count)
        #expect(received.first == stored.last, "the newest fix first")
        #expect(Array(received.dropFirst()) == Array(stored.dropLast()), "then all the others, in order")
    }

    @Test func aFullQueueKeepsTheNewestAndCountsTheDrops() async throws {
        let setup = try await Setup.make(persistence: true)
        defer { setup.remove() }
        // 5000 one-second fixes, produced while the broker is down.
        let drive = setup.dir.file("long.nmea")
        var text = ""
        for n in 0..<5000 {
            let seconds = 8 * 3600 + n
            let time = String(format: "%02d%02d%02d.00", seconds / 3600, seconds / 60 % 60, seconds % 60)
            let minutes = String(format: "%07.4f", 9.0 + Double(n) * 0.0001)
            text += sentenceLine("GPRMC,\(time),A,10\(minutes),N,01009.0000,E,10.0,0.0,020320,,,A")
        }
        try text.write(to: drive, atomically: true, encoding: .utf8)
        let expected = try Self.expectedPayloads(drive)
        #expect(expected.count == 5000)

        // The subscriber's session is on the broker before the outage, so it misses nothing.
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe(Self.fixTopics, clientID: "bounds-subscriber", persistentSession: true)
        await setup.broker.stop()

        let config = try setup.config(replay: drive, queue: "max_messages = 1000")
        let run = try TrackerdBinary.start(["run", "--config", config])
        #expect(await run.stderrLines.wait(timeout: .seconds(30)) { $0.contains { $0.contains("fix source ended") } })
        try await setup.broker.start()
        #expect(await run.waitForExit(timeout: .seconds(30)) == 0)
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(60)) { Self.received($0).count >= 1000 })
        let received = Self.received(subscriber)
        #expect(received.count == 1000)
        let newest = Array(expected.suffix(1000))
        #expect(received.first == newest.last && Array(received.dropFirst()) == Array(newest.dropLast()),
                "the newest 1000, the newest of them first, the rest in order; first received: \(received.first ?? "none")")
        let drops = run.stderrLines.items.compactMap { line -> Int? in
            guard let range = line.range(of: "dropped the ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(drops.reduce(0, +) == 4000, "\(drops)")
        #expect(drops.count <= 2, "drops are logged at most once a minute (and once at exit)")

        let stats = try TrackerdBinary.start(["queue", "stats", "--config", config, "--json"])
        #expect(await stats.waitForExit(timeout: .seconds(10)) == 0)
        let report = try JSONSerialization.jsonObject(with: Data((stats.stdoutLines.items.first ?? "").utf8)) as? [String: Any]
        #expect(report?["depth"] as? Int == 0 && report?["bytes"] as? Int == 0 && report?["dropped"] as? Int == 4000, "\(stats.stdoutLines.items)")
    }

    @Test(arguments: [
        ("client.pem", "client.key", "other-ca.pem", "not signed by the CA in"),
        ("rogue.pem", "rogue.key", "ca.pem", "refused our client certificate"),
        ("client.pem", "client.key", "ca.pem", "host name mismatch"),
    ])
    func badCredentialsAreExplainedRetriedAndSurvived(cert: String, key: String, ca: String, expected: String) async throws {
        // For the mismatch, the broker presents a certificate for wrong.example.
        let setup = try await Setup.make(serverCertificate: expected == "host name mismatch" ? "wronghost" : "server")
        defer { setup.remove() }
        try await setup.broker.start()
        let drive = setup.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: drive)
        var config = try String(contentsOfFile: try setup.config(replay: drive), encoding: .utf8)
        config = config.replacingOccurrences(of: "client.pem", with: cert).replacingOccurrences(of: "client.key", with: key)
            .replacingOccurrences(of: "/ca.pem", with: "/" + ca)
        let file = setup.dir.file("bad.toml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let run = try TrackerdBinary.start(["run", "--config", file.path])
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { lines in
            lines.filter { $0.contains(expected) }.count >= 2 && lines.contains { $0.contains("reconnecting to ") }
        }, "\(run.stderrLines.items.suffix(4))")
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(3)) == 0, "still running and stops cleanly")
        #expect(Self.count(run, "messages stay queued for the next start") == 1)
    }

    @Test func geofenceEventsArePublishedAndARestartSendsNoDuplicate() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe("trackers/1/geofence")
        let zone = "[[geofence]]\nname = \"depot\"\nbox = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }\nhysteresis_m = 10\n"
        let config = try setup.config(replay: TrackerdBinary.seedDrive, queue: "", trailer: zone)
        let first = try TrackerdBinary.start(["run", "--config", config])
        #expect(await first.waitForExit(timeout: .seconds(60)) == 0)
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(30)) { Self.received($0, topic: "trackers/1/geofence").count >= 5 })
        let events = Self.received(subscriber, topic: "trackers/1/geofence")
        #expect(events.count == 5)
        #expect(events.first == #"{"deviceId":"1","zone":"depot","event":"OnEnter","state":"InBoundary","lat":10.1500233,"lng":10.1500267,"time":"2020-03-02T08:03:20.000Z"}"#)
        #expect(first.stderrLines.items.filter { $0.contains("notice: geofence depot: OnEnter") }.count == 3)

        let second = try TrackerdBinary.start(["run", "--config", config])
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0)
        #expect(!second.stderrLines.items.contains { $0.contains("geofence depot: On") }, "the zone's state survived the restart")
        #expect(Self.received(subscriber, topic: "trackers/1/geofence").count == 5)
    }

    @Test func presenceIsOnlineOnConnectAndTheWillSaysOfflineAfterACrash() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe("trackers/1/status")
        let run = try TrackerdBinary.start(["run", "--config", try setup.config(replay: TrackerdBinary.seedDrive, speed: 1)])
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0.hasPrefix(#"trackers/1/status {"state":"online","deviceId":"1","queued":"#) }
        })
        run.signal(SIGKILL)
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0 == #"trackers/1/status {"state":"offline"}"# }
        }, "the broker publishes the last will")
    }

    /// SIGTERM: the tracker loop stops first and says "offline" itself on the still-open
    /// connection (a clean DISCONNECT never triggers the broker's last will), then the
    /// connection closes: the services stop in reverse order.
    @Test func aCleanStopSaysOfflineBeforeTheConnectionCloses() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        try await setup.broker.start()
        let subscriber = try await setup.broker.subscribe("trackers/1/status")
        let run = try TrackerdBinary.start(["run", "--config", try setup.config(replay: TrackerdBinary.seedDrive, speed: 1)])
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("connected to localhost") } })
        run.signal(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(10)) == 0)
        #expect(await subscriber.stdoutLines.wait(timeout: .seconds(10)) { lines in
            lines.contains { $0 == #"trackers/1/status {"state":"offline"}"# }
        }, "\(subscriber.stdoutLines.items)")
        #expect(!run.stderrLines.items.contains { $0.contains("disconnected from") }, "a clean stop is not a lost connection")
    }

    /// `queue stats` while trackerd runs offline: the stored file lags (newest messages in memory),
    /// the running daemon's whole queue comes from its status.
    @Test func queueStatsShowsTheRunningDaemonsQueue() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let runtime = setup.dir.path + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let config = try setup.config(replay: TrackerdBinary.seedDrive, speed: 5)
        let run = try TrackerdBinary.start(["run", "--config", config], environment: ["RUNTIME_DIRECTORY": runtime])
        defer { run.signal(SIGKILL) }
        var running: [String: Any]?
        // The status is rewritten every 2 s: ask until it shows (each ask is a new process).
        for _ in 0..<200 {
            let stats = try TrackerdBinary.start(["queue", "stats", "--config", config, "--json"], environment: ["RUNTIME_DIRECTORY": runtime])
            _ = await stats.waitForExit(timeout: .seconds(10))
            let report = try? JSONSerialization.jsonObject(with: Data((stats.stdoutLines.items.first ?? "").utf8)) as? [String: Any]
            if let queue = report?["running"] as? [String: Any], (queue["depth"] as? Int ?? 0) >= 5 {
                running = queue
                break
            }
        }
        let queue = try #require(running, "the running daemon's queue appears and grows while offline")
        #expect((queue["bytes"] as? Int ?? 0) > 0)
        let text = try TrackerdBinary.start(["queue", "stats", "--config", config], environment: ["RUNTIME_DIRECTORY": runtime])
        #expect(await text.waitForExit(timeout: .seconds(10)) == 0)
        #expect(text.stdoutLines.items.contains { $0.hasPrefix("running trackerd: ") }, "\(text.stdoutLines.items)")
    }
}

func sentenceLine(_ body: String) -> String {
    let sum = body.utf8.reduce(UInt8(0), ^)
    let hex = String(sum, radix: 16, uppercase: true)
    return "$" + body + "*" + (hex.count == 1 ? "0" + hex : hex) + "\r\n"
}
