import Foundation
import Testing
import TestSupport

/// After an outage, against localcloud run with `--aws-limits strict` (a breach of AWS IoT
/// Core's limits is logged and disconnects the tracker): trackerd and localcloud as the real
/// executables.
@Suite struct DrainEndToEndTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup

    /// The RMC line of the `n`th one-second fix from 09:00:00 on 2020-03-02 (days roll over).
    /// `at`: the position as RMC writes it (default 10.15,10.15, inside the original design's box).
    static func line(_ n: Int, at position: String = "1009.0000,N,01009.0000,E") -> String {
        let (day, h, m, s) = clock(n)
        return sentenceLine("GPRMC,\(h)\(m)\(s).00,A,\(position),10.0,0.0,\(day)0320,,,A")
    }

    /// The gpsDatTm of the `n`th fix.
    static func time(_ n: Int) -> String {
        let (day, h, m, s) = clock(n)
        return "03/\(day)/2020  \(h):\(m):\(s).000"
    }

    /// Day, hour, minute and second of the `n`th fix, two digits each.
    static func clock(_ n: Int) -> (String, String, String, String) {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let seconds = 9 * 3600 + n
        return (two(2 + seconds / 86_400), two(seconds / 3600 % 24), two(seconds / 60 % 60), two(seconds % 60))
    }

    /// `count` fixes written to `url`; their gpsDatTm.
    static func drive(_ count: Int, into url: URL) throws -> [String] {
        try (0..<count).map { line($0) }.joined().write(to: url, atomically: true, encoding: .utf8)
        return (0..<count).map(time)
    }

    /// A subscriber to the fixes, with localcloud's own identity: its lines are the events the
    /// tests wait on (received.jsonl, which localcloud appends to, announces nothing).
    static func watch(_ cloud: Cloud, topics: [String] = ["gpsTopic", "trackers/+/backlog"]) async throws -> ChildProcess {
        let watcher = try ChildProcess("/usr/bin/stdbuf", [
            "-oL", "/usr/bin/mosquitto_sub", "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
            "--cert", cloud.cloud + "/service/localcloud.pem", "--key", cloud.cloud + "/service/localcloud.key",
            "-i", "test-watch-\(UUID().uuidString.prefix(6))", "-q", "1", "-v", "-d",
        ] + topics.flatMap { ["-t", $0] })
        #expect(await watcher.stdoutLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("SUBACK") } })
        return watcher
    }

    /// The fixes localcloud recorded, in arrival order: (gpsDatTm, came in a backlog batch).
    static func fixes(_ cloud: Cloud) -> [(time: String, backlog: Bool)] {
        ProvisioningEndToEndTests.received(cloud).compactMap { line in
            guard line["topic"] as? String == "gpsTopic" || line["backlog"] as? Bool == true,
                  let time = (line["payload"] as? [String: Any])?["gpsDatTm"] as? String else { return nil }
            return (time, line["backlog"] as? Bool == true)
        }
    }

    /// localcloud again on the same directory and port (the broker back after an outage).
    static func restart(_ cloud: Cloud) async throws -> Cloud {
        cloud.serve.signal(SIGTERM)
        _ = await cloud.serve.waitForExit(timeout: .seconds(10))
        let serve = try ChildProcess(Cloud.executable, ["serve", cloud.cloud, "--port", String(cloud.port), "--aws-limits", "strict",
                                                        "--files-port", String(LoopbackPort.free()), "--http-port", String(LoopbackPort.free())])
        #expect(await serve.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("localcloud ready") } })
        return Cloud(dir: cloud.dir, port: cloud.port, serve: serve)
    }

    /// 60,000 fixes queued while the cloud is away; when it returns the newest fix comes first,
    /// the backlog follows complete and in order within AWS's limits, and a kill -9 in the
    /// middle of the drain loses nothing.
    @Test func sixtyThousandQueuedFixesDrainNewestFirstWithinTheLimits() async throws {
        var cloud = try await Cloud.start()
        defer { cloud.stop() }
        let config = try cloud.config("[queue]\nbacklog_batch = 50\n",
                                      replace: ("topic = \"gpsTopic\"", "topic = \"gpsTopic\"\nreconnect_min_s = 0.2\nreconnect_max_s = 1"))
        // First boot: provisioned, three fixes published.
        let first = cloud.dir.file("first.nmea")
        try TrackerdBinary.seedDriveCut(080320...080322, into: first)
        let provision = try TrackerdBinary.start(["run", "--config", config, "--replay", first.path, "--replay-speed", "0"])
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0, "\(provision.stderrLines.items.suffix(5))")
        // localcloud may write them down after trackerd has exited (the broker acknowledged them).
        let before = await ProvisioningEndToEndTests.receivedFixes(cloud, atLeast: 3).count

        // The cloud goes away; 60,000 fixes are made meanwhile.
        cloud.serve.signal(SIGTERM)
        _ = await cloud.serve.waitForExit(timeout: .seconds(10))
        let drive = cloud.dir.file("long.nmea")
        let expected = try Self.drive(60_000, into: drive)
        let offline = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"])
        #expect(await offline.stderrLines.wait(timeout: .seconds(120)) { $0.contains { $0.contains("fix source ended") } })

        // The cloud returns: a kill -9 once a third has arrived, then a restart drains the rest.
        cloud = try await Self.restart(cloud)
        let watcher = try await Self.watch(cloud)
        // 400 batches of 50.
        let killed = await watcher.stdoutLines.wait(timeout: .seconds(60)) { lines in
            lines.lazy.filter { $0.hasPrefix("trackers/") }.count >= 400
        }
        #expect(killed, "the drain began: \(Self.fixes(cloud).count - before) fixes so far")
        offline.signal(SIGKILL)
        _ = await offline.waitForExit(timeout: .seconds(5))
        let empty = cloud.dir.file("empty.nmea")
        try Data().write(to: empty)
        let rest = try TrackerdBinary.start(["run", "--config", config, "--replay", empty.path])
        #expect(await rest.waitForExit(timeout: .seconds(120)) == 0, "\(rest.stderrLines.items.suffix(5))")

        // The broker acknowledged everything; an alert published now reaches localcloud's rules
        // after every one of those messages (Mosquitto keeps a subscriber's order), and it logs
        // an alert after writing what came before it: once logged, received.jsonl is complete.
        let device = cloud.cloud + "/trackerd-state/device/"
        let marker = try ChildProcess("/usr/bin/mosquitto_pub", [
            "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
            "--cert", device + "certificate.pem.crt", "--key", device + "private.pem.key",
            "-i", "test-marker", "-q", "1", "-t", "trackers/tracker_10000000abcd/alerts", "-m", #"{"marker":true}"#,
        ])
        #expect(await marker.waitForExit(timeout: .seconds(10)) == 0)
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.hasSuffix(#"{"marker":true}"#) } })
        let arrived = Array(Self.fixes(cloud).dropFirst(before))
        let missing = Set(expected).subtracting(arrived.map(\.time)), unexpected = Set(arrived.map(\.time)).subtracting(expected)
        #expect(missing.isEmpty && unexpected.isEmpty,
                "every fix arrived, nothing else: \(missing.count) missing (\(missing.sorted().prefix(3)) ... \(missing.sorted().suffix(3))), \(unexpected.count) unexpected; localcloud: \(cloud.serve.stderrLines.items.filter { $0.contains("aws-limits") || $0.contains("error") }.prefix(5))")
        #expect(arrived.first?.time == expected.last && arrived.first?.backlog == false, "the newest fix first: \(arrived.first.map { "\($0)" } ?? "none")")
        var seen = Set<String>()
        let firstArrivals = arrived.filter(\.backlog).map(\.time).filter { seen.insert($0).inserted }
        let order = Dictionary(expected.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let ranks = firstArrivals.compactMap { order[$0] }
        #expect(ranks == ranks.sorted(), "the backlog in the order the fixes were made")
        print("drain: \(expected.count) fixes, \(arrived.count - Set(arrived.map(\.time)).count) resent after the kill -9")
        #expect(!cloud.serve.stderrLines.items.contains { $0.contains("Outgoing messages are being dropped") }, "the broker dropped nothing")
        let breaches = cloud.serve.stderrLines.items.filter { $0.contains("aws-limits") }
        #expect(breaches.isEmpty, "within AWS IoT Core's limits: \(breaches.prefix(3))")
        #expect(!rest.stderrLines.items.contains { $0.contains("disconnected from") })
    }

    /// A receiver on a UART (a real pty) keeps producing while a backlog of 1,500 fixes drains
    /// one per message at the cap (about 16 s): each new fix reaches localcloud within 2 s of
    /// leaving the receiver.
    @Test func liveFixesArriveWithinTwoSecondsDuringADrain() async throws {
        var cloud = try await Cloud.start()
        defer { cloud.stop() }
        let pty = try PseudoTerminal()
        let config = try cloud.config("[queue]\nbacklog_batch = 1\n", replacing: [
            ("source = \"gpsd\"", "source = \"serial\"\ndevice = \"\(pty.slavePath)\"\nbaud = 9600"),
            ("topic = \"gpsTopic\"", "topic = \"gpsTopic\"\nreconnect_min_s = 0.2\nreconnect_max_s = 1"),
        ])
        let run = try TrackerdBinary.start(["run", "--config", config])
        defer { run.signal(SIGTERM) }
        #expect(await run.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("connected to localhost") } },
                "\(run.stderrLines.items.suffix(5))")
        cloud.serve.signal(SIGTERM)
        _ = await cloud.serve.waitForExit(timeout: .seconds(10))
        #expect(await run.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("disconnected from") } })
        pty.write(Array((0..<1_500).map { Self.line($0) }.joined().utf8))
        cloud = try await Self.restart(cloud)
        let returned = cloud
        let watcher = try await Self.watch(cloud)
        #expect(await watcher.stdoutLines.wait(timeout: .seconds(30)) { $0.lazy.filter { $0.hasPrefix("gpsTopic ") }.count >= 100 },
                "the drain began")
        for n in 1_500..<1_505 {
            let time = Self.time(n)
            pty.write(Array(Self.line(n).utf8))
            let arrived = await watcher.stdoutLines.wait(timeout: .seconds(2)) { lines in
                lines.contains { $0.hasPrefix("gpsTopic ") && $0.contains(time) }
            }
            #expect(arrived, "fix \(time) did not reach the broker within 2 s of leaving the receiver")
        }
        let times = Self.fixes(returned).map(\.time)
        let lastLive = times.lastIndex { $0 >= Self.time(1_500) } ?? 0
        let backlogBefore = Set(times[..<lastLive].filter { $0 < Self.time(1_500) }).count
        #expect(backlogBefore < 1_500, "the live fixes overtook the backlog (\(backlogBefore) of 1,500 in before the last)")
    }

    /// Without the cap, one message per fix, the same drain breaks AWS's 100 publishes per
    /// second: strict localcloud says so, naming the tracker, and disconnects it.
    @Test func withoutTheCapStrictLocalcloudDisconnectsTheTracker() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let config = try cloud.config("[queue]\nbacklog_batch = 1\nmax_inflight = 100\n",
                                      replace: ("topic = \"gpsTopic\"", "topic = \"gpsTopic\"\nmax_publish_rate = 0"))
        let drive = cloud.dir.file("drive.nmea")
        _ = try Self.drive(3_000, into: drive)
        let run = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"])
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(60)) { lines in
            lines.contains { $0.contains("AWS IoT Core would throttle tracker_10000000abcd: more than 100 publishes") }
        }, "\(cloud.serve.stderrLines.items.suffix(3))")
        #expect(await run.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("disconnected from") } })
        run.signal(SIGTERM)
        _ = await run.waitForExit(timeout: .seconds(10))
    }
}
