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
        await cloud.stop()
    }
}
