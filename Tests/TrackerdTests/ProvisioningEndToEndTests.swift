import Foundation
import Testing
import TestSupport
import TrackerStorage

/// trackerd's first boot against localcloud, both as the real executables: `localcloud init`
/// and `serve` (Mosquitto with ACLs), then `trackerd run` / `provision` with the claim pair.
@Suite struct ProvisioningEndToEndTests {
    struct LocalCloudSetup {
        let dir: TemporaryDirectory
        let port: Int
        let serve: ChildProcess
        /// Where DIR/files/ is served over HTTPS (job payloads).
        var filesPort = 0
        /// The dashboard's port (each test its own, never the default 8080).
        var httpPort = 0
        var cloud: String { dir.path + "/cloud" }

        static var executable: String {
            URL(fileURLWithPath: TrackerdBinary.path).deletingLastPathComponent().appendingPathComponent("localcloud").path
        }

        static func start(hook: String? = nil, webhook: String? = nil, certificateDays: Int? = nil,
                          serveArguments: [String] = []) async throws -> LocalCloudSetup {
            let dir = try TemporaryDirectory()
            let port = LoopbackPort.free()
            let initialize = try ChildProcess(executable, ["init", dir.path + "/cloud", "--port", String(port)]
                                              + (certificateDays.map { ["--cert-days", String($0)] } ?? []))
            #expect(await initialize.waitForExit(timeout: .seconds(30)) == 0)
            let filesPort = LoopbackPort.free()
            let httpPort = LoopbackPort.free()
            let serve = try ChildProcess(executable, ["serve", dir.path + "/cloud", "--port", String(port), "--aws-limits", "strict",
                                                      "--files-port", String(filesPort), "--http-port", String(httpPort)]
                                         + (hook.map { ["--pre-provisioning-hook", $0, "--hook-timeout", "60"] } ?? [])
                                         + (webhook.map { ["--webhook", $0] } ?? []) + serveArguments)
            let ready = await serve.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("localcloud ready") } }
            #expect(ready, "\(serve.stderrLines.items.suffix(5))")
            return LocalCloudSetup(dir: dir, port: port, serve: serve, filesPort: filesPort, httpPort: httpPort)
        }

        /// localcloud's trackerd.toml with a device id and, optionally, more lines.
        /// `report`: the [report] section; by default every fix and nothing else (no trip starts
        /// under 50 m/s), which is what most of these tests count.
        func config(_ extra: String = "", replace: (String, String)? = nil, replacing: [(String, String)] = [],
                    report: String = "policy = \"every-fix\"\nstop_speed_mps = 50") throws -> String {
            var text = "[device]\nid = \"10000000abcd\"\n[report]\n\(report)\n"
                + (try String(contentsOfFile: cloud + "/trackerd.toml", encoding: .utf8)) + extra
            for (old, new) in (replace.map { [$0] } ?? []) + replacing { text = text.replacingOccurrences(of: old, with: new) }
            let file = dir.file("trackerd-\(UUID().uuidString.prefix(6)).toml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        /// Synchronous, for a `defer`: localcloud stops its broker, then everything goes.
        func stop() {
            serve.terminate()
            dir.remove()
        }
    }

    /// localcloud's registry as a running serve holds it: the snapshot (registry.json) with the
    /// journal (registry.log) replayed over it, a later line for a thing replacing an earlier.
    static func registry(_ cloud: LocalCloudSetup) throws -> [String: Any] {
        var things = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cloud.cloud + "/registry.json"))) as? [String: Any] ?? [:]
        let log = (try? String(contentsOfFile: cloud.cloud + "/registry.log", encoding: .utf8)) ?? ""
        for line in log.split(separator: "\n") {
            if let thing = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let name = thing["thingName"] as? String {
                things[name] = thing
            }
        }
        return things
    }

    static func received(_ cloud: LocalCloudSetup) -> [[String: Any]] {
        records(FileManager.default.contents(atPath: cloud.cloud + "/received.jsonl") ?? Data())
    }

    /// The fixes localcloud recorded, once there are at least `count` of them (or at a 20 s
    /// deadline): a tracker that has exited had its fixes acknowledged by the broker, which
    /// localcloud may not have written down yet.
    static func receivedFixes(_ cloud: LocalCloudSetup, atLeast count: Int) async -> [[String: Any]] {
        _ = await FileChanges.wait(path: cloud.cloud + "/received.jsonl", timeout: .seconds(20)) { data in
            Self.records(data ?? Data()).filter(Self.isFix).count >= count
        }
        return Self.received(cloud).filter(Self.isFix)
    }

    static func isFix(_ record: [String: Any]) -> Bool {
        record["topic"] as? String == "gpsTopic" || record["backlog"] as? Bool == true
    }

    private static func records(_ data: Data) -> [[String: Any]] {
        data.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    @Test func firstBootProvisionsPublishesAndARebootSkipsProvisioning() async throws {
        let cloud = try await LocalCloudSetup.start()
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080339, into: drive)
        let config = try cloud.config()
        let first = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"])
        #expect(await first.waitForExit(timeout: .seconds(60)) == 0, "\(first.stderrLines.items.suffix(5))")
        let log = first.stderrLines.items
        #expect(log.contains { $0.contains("provisioning with the claim certificate") })
        #expect(log.contains { $0.contains("provisioned as tracker_10000000abcd") })
        #expect(log.contains { $0.contains("connected to localhost:\(cloud.port) as tracker_10000000abcd") })

        let fixes = await Self.receivedFixes(cloud, atLeast: 20)
        #expect(fixes.count == 20, "every fix reached localcloud with the unique certificate")
        let times = fixes.compactMap { ($0["payload"] as? [String: Any])?["gpsDatTm"] as? String }
        #expect(Set(times).count == 20 && times.contains("03/02/2020  08:03:20.000"))
        let backlog: [String] = fixes.filter { $0["backlog"] as? Bool == true }
            .compactMap { ($0["payload"] as? [String: Any])?["gpsDatTm"] as? String }
        #expect(backlog == backlog.sorted(), "the backlog, one line per fix, in order")
        #expect(fixes.allSatisfy { $0["clientId"] as? String == "tracker_10000000abcd" }, "the rules engine knows the publisher")
        #expect(fixes.allSatisfy { $0["receivedAt"] is String })
        #expect(try Self.registry(cloud)["tracker_10000000abcd"] != nil)

        let second = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"])
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0)
        #expect(!second.stderrLines.items.contains { $0.contains("provisioning with the claim certificate") }, "a reboot does not provision again")
        #expect(second.stderrLines.items.contains { $0.contains("using the device certificate of tracker_10000000abcd") })

        // Nothing secret in either process's log.
        let key = try String(contentsOfFile: cloud.cloud + "/trackerd-state/device/private.pem.key", encoding: .utf8)
        let keyBody = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "never"
        let everything = (first.stderrLines.items + second.stderrLines.items + cloud.serve.stderrLines.items).joined(separator: "\n")
        #expect(!everything.contains("PRIVATE KEY") && !everything.contains(keyBody) && !everything.contains("BEGIN CERTIFICATE"))
        cloud.stop()
    }

    /// The device key lost beside its certificate: provisioning again is logged as a decision
    /// (journal event `reprovisioning`, naming what is missing), then a new pair is issued; a
    /// damaged device certificate is not silently replaced but refused with exit 77.
    @Test func incompleteOrDamagedDeviceCredentialsAreNamed() async throws {
        let cloud = try await LocalCloudSetup.start()
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080324, into: drive)
        let config = try cloud.config()
        let arguments = ["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"]
        let first = try TrackerdBinary.start(arguments)
        #expect(await first.waitForExit(timeout: .seconds(60)) == 0)
        let device = cloud.cloud + "/trackerd-state/device"
        let firstCertificate = try String(contentsOfFile: device + "/certificate.pem.crt", encoding: .utf8)

        try FileManager.default.removeItem(atPath: device + "/private.pem.key")
        let second = try TrackerdBinary.start(arguments)
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0, "\(second.stderrLines.items.suffix(5))")
        let decision = second.stderrLines.items.filter { $0.contains("credentials are incomplete") }
        #expect(decision.count == 1 && decision[0].contains("missing \(device)/private.pem.key"), "\(decision)")
        #expect(decision.first?.contains("warning:") == true)
        #expect(second.stderrLines.items.contains { $0.contains("provisioned as tracker_10000000abcd") })
        #expect(try String(contentsOfFile: device + "/certificate.pem.crt", encoding: .utf8) != firstCertificate, "a new identity")

        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: device + "/certificate.pem.crt"))
        let third = try TrackerdBinary.start(arguments)
        #expect(await third.waitForExit(timeout: .seconds(30)) == 77)
        #expect(third.stderrLines.items.contains { $0.contains("certificate.pem.crt holds no PEM certificate") }, "\(third.stderrLines.items.suffix(3))")
        #expect(!third.stderrLines.items.contains { $0.contains("provisioning with the claim certificate") })
        cloud.stop()
    }

    /// Trips reach the same notification path as geofence events: the log, received.jsonl and
    /// the webhook — on the seed drive with the default reporting policy.
    @Test func alertsReachTheWebhookTheLogAndTheFile() async throws {
        let recorder = try HTTPRecorder(failures: 0)
        defer { recorder.stop() }
        let cloud = try await LocalCloudSetup.start(webhook: recorder.url)
        let run = try TrackerdBinary.start(["run", "--config", try cloud.config(report: "policy = \"adaptive\""),
                                            "--replay", TrackerdBinary.seedDrive.path, "--replay-speed", "0"])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        #expect(await recorder.bodies.wait(timeout: .seconds(20)) { bodies in bodies.contains { $0.contains("\"TripStart\"") } })
        #expect(cloud.serve.stderrLines.items.contains { $0.contains("notice: alert from tracker_10000000abcd") && $0.contains("TripStart") })
        #expect(Self.received(cloud).contains { $0["topic"] as? String == "trackers/tracker_10000000abcd/alerts" })
        #expect(run.stderrLines.items.contains { $0.contains("notice: TripStart at ") })
        cloud.stop()
    }

    /// The notification path that SNS served: localcloud's log, received.jsonl and a webhook
    /// (which fails once, so the retry shows).
    @Test func geofenceEventsReachTheWebhookTheLogAndTheFile() async throws {
        let recorder = try HTTPRecorder(failures: 1)
        defer { recorder.stop() }
        let cloud = try await LocalCloudSetup.start(webhook: recorder.url)
        let zone = "\n[[geofence]]\nname = \"depot\"\nbox = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }\nhysteresis_m = 10\n"
        let run = try TrackerdBinary.start(["run", "--config", try cloud.config(zone), "--replay", TrackerdBinary.seedDrive.path,
                                            "--replay-speed", "0"])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0)
        #expect(await recorder.bodies.wait(timeout: .seconds(20)) { $0.count >= 5 }, "\(recorder.statuses.items)")
        let posted = recorder.bodies.items.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(posted.map { "\($0["time"] as? String ?? "") \($0["event"] as? String ?? "")" }) == [
            "2020-03-02T08:03:20.000Z OnEnter", "2020-03-02T08:06:59.000Z OnExit", "2020-03-02T08:06:59.000Z OnEnter",
            "2020-03-02T08:29:01.000Z OnExit", "2020-03-02T08:29:01.000Z OnEnter",
        ])
        #expect(recorder.statuses.items.filter { $0 == 500 }.count == 1)
        #expect(cloud.serve.stderrLines.items.contains { $0.contains("webhook \(recorder.url): HTTP 500; retrying in") })
        #expect(cloud.serve.stderrLines.items.filter { $0.contains("notice: geofence event from tracker_10000000abcd") }.count == 5)
        #expect(Self.received(cloud).filter { $0["topic"] as? String == "trackers/tracker_10000000abcd/geofence" }.count == 5)
        cloud.stop()
    }

    @Test func aCrashBetweenCertificateAndRegistrationResumes() async throws {
        // The hook holds RegisterThing until the test lets it go, so trackerd can be killed right there.
        let hookDir = try TemporaryDirectory()
        defer { hookDir.remove() }
        let allow = hookDir.file("allow").path
        let hook = hookDir.file("hook.sh").path
        // Written with O_CLOEXEC: a descriptor inherited by a child another test spawns at the
        // same moment would make exec fail with ETXTBSY.
        try CredentialStore.write(Array("#!/bin/sh\ncat >/dev/null\nwhile [ ! -e \(allow) ]; do sleep 0.02; done\necho '{\"allowProvisioning\": true}'\n".utf8),
                                  to: hook, mode: 0o755)
        let cloud = try await LocalCloudSetup.start(hook: hook)
        let config = try cloud.config()

        let first = try TrackerdBinary.start(["provision", "--config", config])
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(20)) { $0.contains { $0.contains("running the pre-provisioning hook") } })
        first.signal(SIGKILL)
        _ = await first.waitForExit(timeout: .seconds(5))
        let pending = try String(contentsOfFile: cloud.cloud + "/trackerd-state/pending/pending.json", encoding: .utf8)
        let token = try #require((try JSONSerialization.jsonObject(with: Data(pending.utf8)) as? [String: Any])?["ownershipToken"] as? String)

        #expect(FileManager.default.createFile(atPath: allow, contents: nil))
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(10)) { $0.contains { $0.contains("registered thing tracker_10000000abcd") } },
                "\(cloud.serve.stderrLines.items.filter { !$0.hasPrefix("mosquitto:") }.suffix(6))")
        let second = try TrackerdBinary.start(["provision", "--config", config])
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0, "\(second.stderrLines.items.suffix(6))")
        let log = second.stderrLines.items
        #expect(log.contains { $0.contains("resuming with the pending certificate") })
        #expect(second.stdoutLines.items.first?.hasPrefix("provisioned as tracker_10000000abcd") == true)
        let everything = (first.stderrLines.items + log + cloud.serve.stderrLines.items).joined(separator: "\n")
        #expect(!everything.contains(token), "the ownership token never reaches a log")
        cloud.stop()
    }

    /// Devices booting at the same moment each get their own answers: AWS replies to the
    /// requesting connection alone, and so does localcloud (its broker plugin routes each reply).
    /// Before, Mosquitto gave every subscriber every reply and most of such a fleet failed with
    /// "the issued certificate does not match the device key".
    @Test func devicesProvisioningAtOnceEachGetTheirOwnCertificate() async throws {
        let cloud = try await LocalCloudSetup.start()
        defer { cloud.stop() }
        let count = 12
        var runs: [ChildProcess] = []
        for index in 0..<count {
            let config = try cloud.config(replacing: [("10000000abcd", String(format: "20000000%04d", index)),
                                                      ("trackerd-state", "trackerd-state-\(index)")])
            runs.append(try TrackerdBinary.start(["provision", "--config", config]))
        }
        var names: Set<String> = []
        for run in runs {
            #expect(await run.waitForExit(timeout: .seconds(120)) == 0, "\(run.stderrLines.items.suffix(3))")
            if let line = run.stdoutLines.items.first(where: { $0.hasPrefix("provisioned as ") }) { names.insert(line) }
        }
        #expect(names.count == count, "each its own thing: \(names.sorted())")
        let registered = try Self.registry(cloud)
        #expect(registered.count == count)
        for index in 0..<count {
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cloud.cloud + "/trackerd-state-\(index)/provisioning.json"))) as? [String: Any]
            let thing = registered[record?["thingName"] as? String ?? ""] as? [String: Any]
            #expect(thing?["certificateId"] as? String == record?["certificateId"] as? String, "device \(index) holds the certificate its thing has")
        }
    }

    @Test func aRejectedRegistrationLogsAWSsErrorAndExitsWithItsCode() async throws {
        let cloud = try await LocalCloudSetup.start()
        let config = try cloud.config(replace: ("parameters = { SerialNumber = \"{serial}\" }", "parameters = { Serial = \"{serial}\" }"))
        let run = try TrackerdBinary.start(["run", "--config", config])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 76)
        #expect(run.stderrLines.items.contains {
            $0.contains("RegisterThing was rejected (statusCode 400, errorCode InvalidParameters, errorMessage \"Missing required parameter: SerialNumber\"); check [provisioning] parameters")
        }, "\(run.stderrLines.items.suffix(4))")

        // The certificate was issued but never registered: the broker lets it do nothing.
        let pending = cloud.cloud + "/trackerd-state/pending/"
        let publish = try ChildProcess("/usr/bin/mosquitto_pub", [
            "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
            "--cert", pending + "certificate.pem.crt", "--key", pending + "private.pem.key",
            "-V", "mqttv5", "-q", "1", "-i", "unregistered", "-t", "gpsTopic", "-m", "{}",
        ])
        _ = await publish.waitForExit(timeout: .seconds(10))
        #expect(publish.stderrLines.items.contains { $0.contains("Not authorized") }, "\(publish.stderrLines.items)")
        cloud.stop()
    }

    @Test func theClaimCertificateCannotPublishTelemetry() async throws {
        let cloud = try await LocalCloudSetup.start()
        let publish = try ChildProcess("/usr/bin/mosquitto_pub", [
            "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem",
            "--cert", cloud.cloud + "/claim/certificate.pem.crt", "--key", cloud.cloud + "/claim/private.pem.key",
            "-V", "mqttv5", "-q", "1", "-i", "claim-test", "-t", "gpsTopic", "-m", #"{"from":"claim"}"#,
        ])
        _ = await publish.waitForExit(timeout: .seconds(10))
        #expect(publish.stderrLines.items.contains { $0.contains("Not authorized") }, "\(publish.stderrLines.items)")
        #expect(!Self.received(cloud).contains { ($0["payload"] as? [String: Any])?["from"] as? String == "claim" })
        cloud.stop()
    }

    @Test func aClaimKeyWithMode0644IsRefusedWithTheFix() async throws {
        let cloud = try await LocalCloudSetup.start()
        chmod(cloud.cloud + "/claim/private.pem.key", 0o644)
        let run = try TrackerdBinary.start(["provision", "--config", try cloud.config()])
        #expect(await run.waitForExit(timeout: .seconds(30)) == 77)
        #expect(run.stderrLines.items.contains { $0.contains("fix: chmod 600 \(cloud.cloud)/claim/private.pem.key") })
        cloud.stop()
    }
}
