import Foundation
import Testing
import TestSupport

/// localcloud's device shadows, as the real executables: `localcloud shadow` for the operator,
/// the broker's ACLs for a provisioned device.
@Suite struct ShadowEndToEndTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup

    func shadow(_ cloud: Cloud, _ thing: String, desired: String? = nil) async throws -> (status: Int32?, line: String) {
        var arguments = ["shadow", cloud.cloud, thing, "--port", String(cloud.port)]
        if let desired {
            let file = cloud.dir.file("desired-\(UUID().uuidString.prefix(6)).json")
            try desired.write(to: file, atomically: true, encoding: .utf8)
            arguments += ["--desired", file.path]
        }
        let run = try ChildProcess(Cloud.executable, arguments)
        let status = await run.waitForExit(timeout: .seconds(20))
        return (status, run.stdoutLines.items.first ?? run.stderrLines.items.joined(separator: " "))
    }

    /// 404 before anything; an update answered with its version; get shows desired and delta;
    /// the document is kept in DIR/shadows.
    @Test func anOperatorReadsAndWritesAShadow() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let missing = try await shadow(cloud, "tracker_1")
        #expect(missing.status == 1 && missing.line.hasPrefix("get/rejected ") && missing.line.contains(#""code":404"#), "\(missing)")
        #expect(missing.line.contains("No shadow exists with name: 'trackerd'"))

        let update = try await shadow(cloud, "tracker_1", desired: #"{"report":{"moving_interval_s":30}}"#)
        #expect(update.status == 0 && update.line.hasPrefix("update/accepted ") && update.line.contains(#""version":1"#), "\(update)")
        let read = try await shadow(cloud, "tracker_1")
        #expect(read.status == 0 && read.line.hasPrefix("get/accepted "))
        let document = try JSONSerialization.jsonObject(with: Data(read.line.dropFirst("get/accepted ".count).utf8)) as? [String: Any]
        let state = document?["state"] as? [String: Any]
        #expect(((state?["desired"] as? [String: Any])?["report"] as? [String: Any])?["moving_interval_s"] as? Int == 30)
        #expect(state?["delta"] != nil, "nothing reported yet: all of it is delta")
        #expect(FileManager.default.fileExists(atPath: cloud.cloud + "/shadows/tracker_1/trackerd.json"))
    }

    /// A provisioned device may use its own shadows and no other thing's.
    @Test func aDeviceReachesOnlyItsOwnShadow() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let provision = try TrackerdBinary.start(["provision", "--config", try cloud.config()])
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0, "\(provision.stderrLines.items.suffix(3))")
        let device = cloud.cloud + "/trackerd-state/device/"
        func publish(_ thing: String) async throws -> [String] {
            let run = try ChildProcess("/usr/bin/mosquitto_pub", [
                "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
                "--cert", device + "certificate.pem.crt", "--key", device + "private.pem.key",
                "-V", "mqttv5", "-q", "1", "-i", "tracker_10000000abcd", "-t", "$aws/things/\(thing)/shadow/name/trackerd/get", "-m", "{}",
            ])
            _ = await run.waitForExit(timeout: .seconds(10))
            return run.stderrLines.items
        }
        #expect(!(try await publish("tracker_10000000abcd")).contains { $0.contains("Not authorized") })
        #expect((try await publish("tracker_someone_else")).contains { $0.contains("Not authorized") })
        // Subscriptions: its own replies, and no wildcard that would take in another thing's.
        func subscribe(_ filter: String) async throws -> [String] {
            let run = try ChildProcess("/usr/bin/mosquitto_sub", [
                "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
                "--cert", device + "certificate.pem.crt", "--key", device + "private.pem.key",
                "-V", "mqttv5", "-i", "tracker_10000000abcd", "-t", filter, "-W", "2",
            ])
            _ = await run.waitForExit(timeout: .seconds(10))
            return run.stderrLines.items + run.stdoutLines.items
        }
        #expect(!(try await subscribe("$aws/things/tracker_10000000abcd/shadow/name/trackerd/get/accepted")).contains { $0.contains("denied") })
        #expect((try await subscribe("$aws/things/+/shadow/name/trackerd/get/accepted")).contains { $0.contains("denied") })
        #expect((try await subscribe("trackers/#")).contains { $0.contains("denied") })
    }

    // MARK: - a tracker following its shadow

    static let thing = "tracker_10000000abcd"
    static let square = #"{"type":"Polygon","coordinates":[[[10.1,10.1],[10.2,10.1],[10.2,10.2],[10.1,10.2],[10.1,10.1]]]}"#
    static let depot = #"{"geofences":{"type":"FeatureCollection","features":[{"type":"Feature","geometry":\#(square),"properties":{"name":"depot"}}]}}"#

    /// A provisioned tracker parked at 10.15,10.15, one fix a second (a replay at real speed),
    /// and a subscriber to its fixes, zone events and shadow updates.
    struct Parked {
        let run: ChildProcess
        let watcher: ChildProcess
        let config: String
        let runtime: String

        // Of the watcher's lines (pass them in: a wait's predicate runs under the log's lock).
        static func fixes(_ lines: [String]) -> [String] { lines.filter { $0.hasPrefix("gpsTopic ") } }
        static func zoneEvents(_ lines: [String]) -> [String] { lines.filter { $0.hasPrefix("trackers/\(thing)/geofence ") } }
        /// The device's own updates of its reported state, as the service accepted them.
        static func reports(_ lines: [String]) -> [String] {
            lines.filter { $0.hasPrefix("$aws/things/\(thing)/shadow/name/trackerd/update/accepted ") && $0.contains(#""reported""#) }
        }

        func fixes() -> [String] { Self.fixes(watcher.stdoutLines.items) }
        func zoneEvents() -> [String] { Self.zoneEvents(watcher.stdoutLines.items) }
    }

    static func park(_ cloud: Cloud, report: String = "policy = \"every-fix\"\nstop_speed_mps = 50", arguments: [String] = []) async throws -> Parked {
        let drive = cloud.dir.file("parked-\(UUID().uuidString.prefix(6)).nmea")
        try (0..<900).map { DrainEndToEndTests.line($0) }.joined().write(to: drive, atomically: true, encoding: .utf8)
        let config = try cloud.config(report: report)
        let runtime = cloud.dir.path + "/run-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let watcher = try await DrainEndToEndTests.watch(cloud, topics: [
            "gpsTopic", "trackers/+/geofence", "$aws/things/\(thing)/shadow/name/trackerd/update/accepted",
        ])
        let run = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "1"] + arguments,
                                           environment: ["RUNTIME_DIRECTORY": runtime])
        let connected = await run.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("connected to localhost") } }
        #expect(connected, "\(run.stderrLines.items.suffix(5))")
        return Parked(run: run, watcher: watcher, config: config, runtime: runtime)
    }

    /// Zones pushed mid-drive: the event within 5 s, no restart, the applied state reported
    /// (no delta left) and shown by `trackerd status` as remote.
    @Test func aPushedZoneProducesEventsWithinFiveSecondsWithoutARestart() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await Self.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(20)) { $0.contains { $0.hasPrefix("gpsTopic ") } })
        #expect(parked.zoneEvents().isEmpty, "no zone in the file")

        let pushed = try await shadow(cloud, Self.thing, desired: Self.depot)
        #expect(pushed.status == 0 && pushed.line.hasPrefix("update/accepted "), "\(pushed)")
        let event = await parked.watcher.stdoutLines.wait(timeout: .seconds(5)) { lines in
            lines.contains { $0.hasPrefix("trackers/\(Self.thing)/geofence ") && $0.contains(#""zone":"depot""#) && $0.contains("InBoundary") }
        }
        #expect(event, "a zone event within 5 s of the update: \(parked.run.stderrLines.items.suffix(3))")
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { Parked.reports($0).contains { $0.contains(#""name":"depot""#) } })
        let document = try await shadow(cloud, Self.thing)
        #expect(document.line.contains(#""reported":{"geofences""#) && !document.line.contains(#""delta""#), "\(document.line.prefix(300))")
        #expect(parked.run.stderrLines.items.filter { $0.contains("trackerd 0.") && $0.contains(" starting with ") }.count == 1, "no restart")

        let status = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": parked.runtime])
        #expect(await status.waitForExit(timeout: .seconds(10)) == 0)
        let lines = status.stdoutLines.items
        #expect(lines.contains("setting geofences = depot (remote)") && lines.contains("zone depot: InBoundary"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("shadow: $aws/things/\(Self.thing)/shadow/name/trackerd, version 1 applied") })
        #expect(lines.contains("setting report.policy = \"every-fix\" (file)"))
    }

    /// The shadow's adaptive policy holds back every fix of a parked tracker (a heartbeat per
    /// week); taking it back to every-fix sends each fix again — all without a restart.
    @Test func aPushedReportingPolicyChangesThePublishing() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await Self.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(20)) { Parked.fixes($0).count >= 2 })

        let quiet = try await shadow(cloud, Self.thing, desired: #"{"report":{"policy":"adaptive","stopped_interval_s":604800},"log_level":"debug"}"#)
        #expect(quiet.status == 0)
        let stderr = parked.run.stderrLines
        #expect(await stderr.wait(timeout: .seconds(10)) { $0.contains { $0.contains("shadow trackerd version 1 applied: log_level, report") } })
        let appliedAt = stderr.items.lastIndex { $0.contains("version 1 applied") } ?? 0
        // Five fixes handled under the shadow's policy (the debug level is the shadow's too).
        #expect(await stderr.wait(timeout: .seconds(15)) { lines in lines[(appliedAt + 1)...].filter { $0.contains("debug: fix: ") }.count >= 5 })
        let held = stderr.items[(appliedAt + 1)...].filter { $0.contains("debug: fix: ") }.prefix(5).compactMap { line -> String? in
            // "... at 2020-03-02T09:00:07.000Z" -> "03/02/2020  09:00:07.000", the payload's gpsDatTm
            guard let at = line.range(of: " at 2020-03-02T") else { return nil }
            return "03/02/2020  " + line[at.upperBound...].prefix(12)
        }
        #expect(held.count == 5)

        let back = try await shadow(cloud, Self.thing, desired: #"{"report":{"policy":"every-fix"}}"#)
        #expect(back.status == 0)
        let before = parked.fixes().count
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { Parked.fixes($0).count >= before + 2 }, "every fix again")
        // Fixes from one publisher arrive in order: had any of the five been sent, it would be here.
        let sent = parked.fixes()
        #expect(!held.contains { time in sent.contains { $0.contains(time) } }, "held back under the adaptive policy: \(held)")
    }

    /// A value check-config refuses is refused from the shadow in the same words: nothing
    /// applied, the old value still reported, reported.errors saying why.
    @Test func anInvalidValueIsReportedAndNotApplied() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await Self.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        let pushed = try await shadow(cloud, Self.thing, desired: #"{"report":{"moving_interval_s":0},"log_level":"debug"}"#)
        #expect(pushed.status == 0)
        let problem = #"{"path":"report.moving_interval_s","problem":"0.0 is out of range (1.0 to 86400.0)"}"#
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { Parked.reports($0).contains { $0.contains(problem) } },
                "\(parked.watcher.stdoutLines.items.suffix(3))")
        #expect(parked.run.stderrLines.items.contains { $0.contains("not applied: report.moving_interval_s: 0.0 is out of range (1.0 to 86400.0)") })
        let document = try await shadow(cloud, Self.thing)
        let reported = try #require(try JSONSerialization.jsonObject(with: Data(document.line.dropFirst("get/accepted ".count).utf8)) as? [String: Any])
        let state = (reported["state"] as? [String: Any])?["reported"] as? [String: Any]
        #expect(state?["report"] == nil && state?["log_level"] == nil, "nothing half-applied: \(state ?? [:])")

        // check-config's words for the same value in the file.
        let file = cloud.dir.file("bad.toml")
        try "[report]\nmoving_interval_s = 0\n".write(to: file, atomically: true, encoding: .utf8)
        let check = try TrackerdBinary.start(["check-config", "--config", file.path])
        #expect(await check.waitForExit(timeout: .seconds(10)) == 1)
        #expect(check.stderrLines.items.contains { $0.hasSuffix("report.moving_interval_s: 0.0 is out of range (1.0 to 86400.0)") }, "\(check.stderrLines.items)")
    }

    /// Over 8 KB the service refuses the update itself (413); a zone set the service takes but
    /// whose confirmation would take the document over 8 KB is refused by the tracker, with
    /// that reason in reported.errors.
    @Test func zoneSetsOverTheDocumentLimitAreRefused() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await Self.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        func zones(points: Int) -> String {
            let ring = (0...points).map { i -> String in
                let angle = Double(i) / Double(points) * 2 * Double.pi
                return "[\(10.15 + 0.04 * cos(angle)),\(10.15 + 0.04 * sin(angle))]"
            }.joined(separator: ",")
            return #"{"geofences":{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[\#(ring)]]},"properties":{"name":"ring"}}]}}"#
        }
        let tooBig = try await shadow(cloud, Self.thing, desired: zones(points: 400))
        #expect(tooBig.status == 1 && tooBig.line.hasPrefix("update/rejected ") && tooBig.line.contains(#""code":413"#), "\(tooBig)")

        // Large enough that its echo does not fit, small enough that the refusal itself does.
        let large = zones(points: 130)
        #expect(large.utf8.count > 4_200 && large.utf8.count < 7_000, "\(large.utf8.count)")
        #expect(try await shadow(cloud, Self.thing, desired: large).status == 0)
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { lines in
            Parked.reports(lines).contains { $0.contains(#""path":"geofences""#) && $0.contains("over AWS IoT Core's 8 KB limit") }
        }, "\(parked.run.stderrLines.items.suffix(3))")
        #expect(parked.zoneEvents().isEmpty, "not applied")
    }

    /// What the shadow set is kept: restarted with the cloud gone, the tracker still evaluates
    /// the pushed zone (and says where its settings come from).
    @Test func appliedSettingsSurviveARestartWithTheBrokerDown() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await Self.park(cloud)
        #expect(try await shadow(cloud, Self.thing, desired: Self.depot).status == 0)
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { !Parked.zoneEvents($0).isEmpty })
        #expect(await parked.watcher.stdoutLines.wait(timeout: .seconds(10)) { !Parked.reports($0).isEmpty })
        parked.run.signal(SIGTERM)
        #expect(await parked.run.waitForExit(timeout: .seconds(15)) == 0)
        cloud.serve.signal(SIGTERM)
        _ = await cloud.serve.waitForExit(timeout: .seconds(10))

        // Driven out of the zone while the cloud is away.
        let away = cloud.dir.file("away.nmea")
        try (1000..<1010).map { DrainEndToEndTests.line($0, at: "1003.0000,N,01003.0000,E") }.joined()
            .write(to: away, atomically: true, encoding: .utf8)
        let offline = try TrackerdBinary.start(["run", "--config", parked.config, "--replay", away.path, "--replay-speed", "0"])
        defer { offline.signal(SIGTERM) }
        #expect(await offline.stderrLines.wait(timeout: .seconds(30)) { $0.contains { $0.contains("geofence depot: OnEnter OutOfBoundary (was InBoundary)") } },
                "\(offline.stderrLines.items.suffix(5))")
        #expect(offline.stderrLines.items.contains { $0.contains("shadow settings of version 1 in force until the shadow answers: geofences") })
        let check = try TrackerdBinary.start(["check-config", "--remote", "--config", parked.config])
        #expect(await check.waitForExit(timeout: .seconds(10)) == 0)
        #expect(check.stdoutLines.items.contains("geofences = depot (remote)") && check.stdoutLines.items.contains("report.policy = \"every-fix\" (file)"),
                "\(check.stdoutLines.items)")
    }
}
