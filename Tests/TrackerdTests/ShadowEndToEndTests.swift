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
        defer { Task { [cloud] in await cloud.stop() } }
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
        defer { Task { [cloud] in await cloud.stop() } }
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
    }
}
