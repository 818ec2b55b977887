import Foundation
import Testing
import TestSupport

/// Certificate rotation end to end against localcloud: device certificates valid for 2 days,
/// `rotate_before_days = 7`, so every start renews; the old certificate is revoked by localcloud
/// once the tracker is online with the new one, and the broker then refuses it.
@Suite struct CertificateRotationTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup

    /// mosquitto_pub's exit status with a client certificate and key (0: the broker took it).
    static func publish(_ cloud: Cloud, certificate: String, key: String, id: String) async throws -> Int32? {
        let publish = try ChildProcess("/usr/bin/mosquitto_pub", [
            "-h", "localhost", "-p", String(cloud.port), "--cafile", cloud.cloud + "/ca/ca.pem", "--cert", certificate, "--key", key,
            "-q", "1", "-i", id, "-t", "trackers/tracker_10000000abcd/alerts", "-m", #"{"probe":true}"#,
        ])
        return await publish.waitForExit(timeout: .seconds(20))
    }

    @Test func aCertificateNearItsEndIsReplacedAtStartAndTheOldOneRefused() async throws {
        let cloud = try await Cloud.start(certificateDays: 2)
        defer { cloud.stop() }
        let config = try cloud.config("[credentials]\nrotate_before_days = 7\n")
        let state = cloud.cloud + "/trackerd-state"

        // The first certificate, kept aside to try it once it is rotated away.
        let provision = try TrackerdBinary.start(["provision", "--config", config])
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0, "\(provision.stderrLines.items.suffix(5))")
        let old = cloud.dir.file("old").path
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        for name in ["certificate.pem.crt", "private.pem.key"] {
            try FileManager.default.copyItem(atPath: state + "/device/" + name, toPath: old + "/" + name)
        }
        #expect(try await Self.publish(cloud, certificate: old + "/certificate.pem.crt", key: old + "/private.pem.key", id: "old-1") == 0,
                "the first certificate works before the rotation")
        let oldRecord = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/provisioning.json"))) as? [String: Any]
        let oldID = try #require(oldRecord?["certificateId"] as? String)

        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: drive)
        let run = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"])
        #expect(await run.waitForExit(timeout: .seconds(90)) == 0, "\(run.stderrLines.items.suffix(5))")
        let log = run.stderrLines.items
        #expect(log.contains { $0.contains("the device certificate \(oldID) expires in 2 days (rotate_before_days = 7): renewing it") },
                "\(log.prefix(12))")
        let rotated = try #require(log.first { $0.contains("rotated the device certificate: now ") }, "\(log.suffix(8))")
        #expect(rotated.contains("\(oldID) is no longer used"))
        #expect(log.contains { $0.contains("rotation: asking localhost:\(cloud.port) for a new certificate over the device's own connection") })
        #expect(log.contains { $0.contains("connected with the device certificate") })
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/provisioning.json"))) as? [String: Any]
        let newID = try #require(record?["certificateId"] as? String)
        #expect(newID != oldID && record?["credentials"] as? String == "device.next" && record?["thingName"] as? String == "tracker_10000000abcd")
        #expect(!FileManager.default.fileExists(atPath: state + "/device/certificate.pem.crt"), "the old pair is gone")
        #expect(!FileManager.default.fileExists(atPath: state + "/rotation/next.json"))
        let fixes = await ProvisioningEndToEndTests.receivedFixes(cloud, atLeast: 10)
        #expect(fixes.count == 10, "the tracker published with the new certificate")

        // localcloud revokes the old certificate once the tracker is online with the new one.
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(20)) { lines in
            lines.contains { $0.contains("tracker_10000000abcd is online with its new certificate \(newID): revoked \(oldID)") }
        }, "\(cloud.serve.stderrLines.items.suffix(5))")
        #expect(try await Self.publish(cloud, certificate: old + "/certificate.pem.crt", key: old + "/private.pem.key", id: "old-2") != 0,
                "the broker refuses the rotated-away certificate")
        #expect(try await Self.publish(cloud, certificate: state + "/device.next/certificate.pem.crt",
                                       key: state + "/device.next/private.pem.key", id: "new-1") == 0, "and takes the new one")
        let thing = try ProvisioningEndToEndTests.registry(cloud)["tracker_10000000abcd"] as? [String: Any]
        let retired = thing?["retired"] as? [[String: Any]]
        #expect(thing?["certificateId"] as? String == newID && retired?.first?["certificateId"] as? String == oldID)
        #expect(retired?.first?["revokedAt"] is String)
    }

    /// kill -9 at each step of a rotation (TRACKERD_CRASH_AT): the next start connects and
    /// publishes every fix, ends with one pair in use that the cloud knows, and finishes the
    /// rotation (every start renews a 2-day certificate with rotate_before_days = 7).
    @Test(arguments: ["rotation-key", "rotation-certificate", "rotation-registered", "rotation-trial", "rotation-switched"])
    func aKillAtAnyStepOfARotationLeavesATrackerThatConnects(step: String) async throws {
        let cloud = try await Cloud.start(certificateDays: 2)
        defer { cloud.stop() }
        let config = try cloud.config("[credentials]\nrotate_before_days = 7\n")
        let state = cloud.cloud + "/trackerd-state"
        let provision = try TrackerdBinary.start(["provision", "--config", config])
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0)
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: drive)
        let arguments = ["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"]

        let killed = try TrackerdBinary.start(arguments, environment: ["TRACKERD_CRASH_AT": step])
        #expect(await killed.waitForExit(timeout: .seconds(60)) == 128 + SIGKILL, "\(step): \(killed.stderrLines.items.suffix(3))")
        let next = try TrackerdBinary.start(arguments)
        #expect(await next.waitForExit(timeout: .seconds(90)) == 0, "\(step): \(next.stderrLines.items.suffix(5))")
        #expect(next.stderrLines.items.contains { $0.contains("connected to localhost:\(cloud.port) as tracker_10000000abcd") })
        #expect(next.stderrLines.items.contains { $0.contains("rotated the device certificate: now ") }, "\(step): \(next.stderrLines.items.suffix(6))")
        let fixes = await ProvisioningEndToEndTests.receivedFixes(cloud, atLeast: 10)
        #expect(Set(fixes.compactMap { ($0["payload"] as? [String: Any])?["gpsDatTm"] as? String }).count == 10, "\(step): every fix")

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/provisioning.json"))) as? [String: Any]
        let thing = try ProvisioningEndToEndTests.registry(cloud)["tracker_10000000abcd"] as? [String: Any]
        #expect(record?["certificateId"] as? String == thing?["certificateId"] as? String, "\(step): the pair in use is the cloud's current one")
        #expect(!FileManager.default.fileExists(atPath: state + "/rotation/next.json"), "\(step): no rotation left half done")
        let inUse = record?["credentials"] as? String ?? "device"
        let other = inUse == "device" ? "device.next" : "device"
        #expect(!FileManager.default.fileExists(atPath: state + "/" + other + "/certificate.pem.crt"), "\(step): the old pair is gone")
    }

    /// A rotate-certificate job on a certificate far from its end: trackerd restarts (exit 75,
    /// which systemd's Restart=on-failure starts again), rotates before it connects, and the job
    /// ends SUCCEEDED with the new certificate's id; localcloud then revokes the old one.
    @Test func aRotateCertificateJobRenewsAtARestartAndSucceeds() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let parked = try await ShadowEndToEndTests.park(cloud)
        defer { parked.run.signal(SIGTERM) }
        let state = cloud.cloud + "/trackerd-state"
        let before = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/provisioning.json"))) as? [String: Any]
        let oldID = try #require(before?["certificateId"] as? String)
        let status = try TrackerdBinary.start(["status"], environment: ["RUNTIME_DIRECTORY": parked.runtime])
        #expect(await status.waitForExit(timeout: .seconds(10)) == 0)
        let line = status.stdoutLines.items.first { $0.hasPrefix("certificate: ") } ?? "none"
        #expect(line.hasPrefix("certificate: \(oldID.prefix(12))…, expires 20") && line.contains("(in 36") && line.hasSuffix("days), key in a file, renewed 30 days before"),
                "\(line)")
        try await JobsEndToEndTests.createJob(cloud, id: "rotate-1", document: #"{"operation":"rotate-certificate"}"#)
        #expect(await parked.run.waitForExit(timeout: .seconds(60)) == 75, "\(parked.run.stderrLines.items.suffix(5))")
        #expect(parked.run.stderrLines.items.contains { $0.contains("trackerd stops to be started again (exit 75): the certificate rotation comes first") })

        let drive = cloud.dir.file("after.nmea")
        try (0..<300).map { DrainEndToEndTests.line($0) }.joined().write(to: drive, atomically: true, encoding: .utf8)
        let again = try TrackerdBinary.start(["run", "--config", parked.config, "--replay", drive.path, "--replay-speed", "1"])
        defer { again.signal(SIGTERM) }
        #expect(await again.stderrLines.wait(timeout: .seconds(60)) { $0.contains { $0.contains("rotated the device certificate: now ") } },
                "\(again.stderrLines.items.suffix(5))")
        #expect(again.stderrLines.items.contains { $0.contains("renewing the device certificate \(oldID) (a job asked)") })
        let after = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/provisioning.json"))) as? [String: Any]
        let newID = try #require(after?["certificateId"] as? String)
        #expect(newID != oldID)
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(30)) { JobsEndToEndTests.ended($0, "rotate-1", "SUCCEEDED") != nil },
                "\(cloud.serve.stderrLines.items.suffix(5))")
        #expect(JobsEndToEndTests.ended(cloud.serve.stderrLines.items, "rotate-1", "SUCCEEDED")?.contains(newID) == true)
        #expect(await cloud.serve.stderrLines.wait(timeout: .seconds(20)) { lines in
            lines.contains { $0.contains("is online with its new certificate \(newID): revoked \(oldID)") }
        })
        #expect(!FileManager.default.fileExists(atPath: state + "/rotation/requested"), "asked once, done once")
    }
}
