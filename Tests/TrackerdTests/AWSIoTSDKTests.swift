import Foundation
import Testing
import TestSupport

/// localcloud checked by AWS's own client: the IoT Device SDK v2 for Python (awsiotsdk, installed
/// by `make test` into .build/awsiot-venv) runs its fleet-provisioning client against it; the
/// replies must parse and complete both flows.
@Suite struct AWSIoTSDKTests {
    static var python: String {
        ProcessInfo.processInfo.environment["TRACKERD_AWSIOT_PYTHON"]
            ?? SharedTestData.repositoryRoot.appendingPathComponent(".build/awsiot-venv/bin/python").path
    }

    @Test(arguments: ["csr", "create-keys"])
    func theOfficialSDKProvisionsAgainstLocalcloud(method: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python),
                     "awsiotsdk is not installed: make test installs it into .build/awsiot-venv")
        let cloud = try await ProvisioningEndToEndTests.LocalCloudSetup.start()
        let serial = "sdk\(method == "csr" ? "1" : "2")"
        let csrFile = cloud.dir.file("device.csr").path
        if method == "csr" {
            let openssl = try ChildProcess("/usr/bin/openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                                "-nodes", "-keyout", cloud.dir.file("device.key").path,
                                                                "-subj", "/CN=\(serial)", "-out", csrFile])
            #expect(await openssl.waitForExit(timeout: .seconds(20)) == 0)
        }
        let script = SharedTestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/awsiot_fleet_provisioning.py").path
        let run = try ChildProcess(Self.python, [script, "localhost", String(cloud.port), cloud.cloud + "/ca/ca.pem",
                                                 cloud.cloud + "/claim/certificate.pem.crt", cloud.cloud + "/claim/private.pem.key",
                                                 "iotDeviceTemplateName", serial, method, csrFile])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0, "\(run.stderrLines.items.suffix(5))")
        let output = try #require(run.stdoutLines.items.last)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["error"] == nil && result["rejected"] == nil, "\(result)")
        #expect((result["certificateId"] as? String)?.count == 64)
        #expect(result["certificatePemStarts"] as? String == "-----BEGIN CERTIFICATE-----")
        #expect(result["hasPrivateKey"] as? Bool == (method == "create-keys"))
        #expect(result["thingName"] as? String == "tracker_\(serial)")
        cloud.stop()
    }
}

extension AWSIoTSDKTests {
    /// trackerd provisions the device whose certificate the SDK then uses.
    static func provision(_ cloud: ProvisioningEndToEndTests.LocalCloudSetup) async throws {
        let provision = try TrackerdBinary.start(["provision", "--config", try cloud.config()])
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0, "\(provision.stderrLines.items.suffix(3))")
    }

    /// The SDK's shadow client, with a provisioned device's certificate, through localcloud:
    /// 404, an update with its delta and documents, a reported state that clears the delta, a
    /// version conflict — each reply parsed by AWS's own code.
    @Test func theOfficialSDKReadsAndUpdatesAShadowThroughLocalcloud() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python),
                     "awsiotsdk is not installed: make test installs it into .build/awsiot-venv")
        let cloud = try await ProvisioningEndToEndTests.LocalCloudSetup.start()
        defer { cloud.stop() }
        try await Self.provision(cloud)
        let device = cloud.cloud + "/trackerd-state/device/"
        let script = SharedTestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/awsiot_shadow.py").path
        let run = try ChildProcess(Self.python, [script, "localhost", String(cloud.port), cloud.cloud + "/ca/ca.pem",
                                                 device + "certificate.pem.crt", device + "private.pem.key", "tracker_10000000abcd"])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0, "\(run.stderrLines.items.suffix(5))")
        let output = try #require(run.stdoutLines.items.last)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["error"] == nil, "\(result)")
        let missing = result["missing"] as? [String: Any]
        #expect(missing?["code"] as? Int == 404 && missing?["clientToken"] as? String == "t1")
        #expect(missing?["message"] as? String == "No shadow exists with name: 'trackerd'")
        let desired = result["desired"] as? [String: Any]
        #expect(desired?["version"] as? Int == 1 && desired?["deltaVersion"] as? Int == 1 && desired?["clientToken"] as? String == "t2")
        #expect(((desired?["delta"] as? [String: Any])?["report"] as? [String: Any])?["moving_interval_s"] as? Int == 30)
        #expect(desired?["previousVersion"] as? Int == 0)
        let reported = result["reported"] as? [String: Any]
        #expect(reported?["version"] as? Int == 2)
        let document = result["document"] as? [String: Any]
        #expect(document?["version"] as? Int == 2 && document?["delta"] is NSNull && document?["hasMetadata"] as? Bool == true, "\(document ?? [:])")
        let conflict = result["conflict"] as? [String: Any]
        #expect(conflict?["code"] as? Int == 409 && conflict?["message"] as? String == "Version conflict")
    }
}

extension AWSIoTSDKTests {
    /// The SDK's jobs client, with a provisioned device's certificate: a job queued with
    /// `localcloud job create` is started, updated, refused a stale version and a change after
    /// its end, and notify-next says nothing is left — each reply parsed by AWS's own code.
    @Test func theOfficialSDKRunsAJobThroughLocalcloud() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python),
                     "awsiotsdk is not installed: make test installs it into .build/awsiot-venv")
        let cloud = try await ProvisioningEndToEndTests.LocalCloudSetup.start()
        defer { cloud.stop() }
        try await Self.provision(cloud)
        let document = cloud.dir.file("job.json")
        try #"{"operation":"update-geofences","url":"https://localhost/zones.geojson","sha256":"00"}"#.write(to: document, atomically: true, encoding: .utf8)
        let create = try ChildProcess(ProvisioningEndToEndTests.LocalCloudSetup.executable, [
            "job", cloud.cloud, "create", "--thing", "tracker_10000000abcd", "--document", document.path, "--job-id", "sdk-job-1",
            "--port", String(cloud.port),
        ])
        #expect(await create.waitForExit(timeout: .seconds(20)) == 0, "\(create.stderrLines.items)")
        #expect(create.stdoutLines.items.first == "job sdk-job-1 QUEUED for tracker_10000000abcd")

        let device = cloud.cloud + "/trackerd-state/device/"
        let script = SharedTestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/awsiot_jobs.py").path
        let run = try ChildProcess(Self.python, [script, "localhost", String(cloud.port), cloud.cloud + "/ca/ca.pem",
                                                 device + "certificate.pem.crt", device + "private.pem.key", "tracker_10000000abcd", "sdk-job-1"])
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0, "\(run.stderrLines.items.suffix(5))")
        let output = try #require(run.stdoutLines.items.last)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["error"] == nil, "\(result)")
        let started = result["started"] as? [String: Any]
        #expect(started?["jobId"] as? String == "sdk-job-1" && started?["status"] as? String == "IN_PROGRESS" && started?["versionNumber"] as? Int == 2)
        #expect((started?["document"] as? [String: Any])?["operation"] as? String == "update-geofences" && started?["hasTimes"] as? Bool == true)
        #expect((result["progress"] as? [String: Any])?["versionNumber"] as? Int == 3)
        #expect((result["conflict"] as? [String: Any])?["code"] as? String == "VersionMismatch")
        let succeeded = result["succeeded"] as? [String: Any]
        #expect(succeeded?["status"] as? String == "SUCCEEDED" && succeeded?["nextIsEmpty"] as? Bool == true)
        #expect((succeeded?["details"] as? [String: Any])?["version"] as? String == "0.2.0")
        #expect((result["final"] as? [String: Any])?["code"] as? String == "InvalidStateTransition")
        #expect(result["nothingPending"] as? Bool == true)

        let list = try ChildProcess(ProvisioningEndToEndTests.LocalCloudSetup.executable, ["job", cloud.cloud, "list"])
        #expect(await list.waitForExit(timeout: .seconds(10)) == 0)
        #expect(list.stdoutLines.items == ["sdk-job-1 tracker_10000000abcd=SUCCEEDED"])
    }
}
