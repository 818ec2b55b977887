import Foundation
import Testing
import TestSupport

/// trackerd with its keys in a real PKCS#11 token (SoftHSM2) against localcloud: the claim key
/// imported into the token, the device key made there at first boot, TLS signed there, and no
/// private key file anywhere under the store.
@Suite(.enabled(if: SoftHSMToken.available, "needs softhsm2 (make test installs it)"))
struct TokenCredentialsTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup

    /// A token holding the cloud's claim key (imported, then the file removed) and a config
    /// that keeps the device key in the same token.
    static func prepare(_ cloud: Cloud, rotate: String = "") async throws -> (SoftHSMToken, String) {
        let token = try SoftHSMToken()
        let claimKey = cloud.cloud + "/claim/private.pem.key"
        let importer = try ChildProcess("/usr/bin/softhsm2-util", ["--import", claimKey, "--token", token.label, "--label", "claim",
                                                                   "--id", "c1a1", "--pin", token.pin], environment: token.environment)
        #expect(await importer.waitForExit(timeout: .seconds(20)) == 0, "\(importer.stderrLines.items)")
        try FileManager.default.removeItem(atPath: claimKey)
        let config = try cloud.config("""
            [credentials]
            key = "pkcs11:token=\(token.label);object=device"
            pkcs11_module = "\(SoftHSMToken.module)"
            pin_file = "\(token.pinFile)"
            \(rotate)
            """, replace: ("claim_key = \"\(claimKey)\"", "claim_key = \"pkcs11:token=\(token.label);object=claim\""))
        return (token, config)
    }

    /// Every regular file under `directory` that holds a PEM private key.
    static func privateKeyFiles(under directory: String) -> [String] {
        let files = FileManager.default.enumerator(atPath: directory)?.allObjects.compactMap { $0 as? String } ?? []
        return files.filter { name in
            let data = FileManager.default.contents(atPath: directory + "/" + name) ?? Data()
            return String(decoding: data, as: UTF8.self).contains("PRIVATE KEY")
        }
    }

    @Test func provisionsAndPublishesWithTheKeyInTheToken() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let (token, config) = try await Self.prepare(cloud)
        defer { token.remove() }
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080339, into: drive)
        let arguments = ["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"]

        let first = try TrackerdBinary.start(arguments, environment: token.environment)
        #expect(await first.waitForExit(timeout: .seconds(60)) == 0, "\(first.stderrLines.items.suffix(5))")
        let log = first.stderrLines.items
        #expect(log.contains { $0.contains("made the device key (ec-p256) in the token \"trackerd\"; it never leaves it") })
        #expect(log.contains { $0.contains("connected with the claim certificate") }, "TLS signed by the claim key in the token")
        #expect(log.contains { $0.contains("provisioned as tracker_10000000abcd") })
        #expect(log.contains { $0.contains("connected to localhost:\(cloud.port) as tracker_10000000abcd") })
        let fixes = ProvisioningEndToEndTests.received(cloud).filter { $0["topic"] as? String == "gpsTopic" || $0["backlog"] as? Bool == true }
        #expect(fixes.count == 20, "every fix reached localcloud over TLS signed in the token")

        let state = cloud.cloud + "/trackerd-state"
        let reference = try String(contentsOfFile: state + "/device/private-key.uri", encoding: .utf8)
        #expect(reference.hasPrefix("pkcs11:token=trackerd;object=device;id=%") && reference.hasSuffix(";type=private\n"))
        #expect(!FileManager.default.fileExists(atPath: state + "/device/private.pem.key"))
        #expect(Self.privateKeyFiles(under: state).isEmpty, "no private key file under the store")
        #expect(Self.privateKeyFiles(under: cloud.cloud + "/claim").isEmpty, "the claim key lives in the token only")

        // A reboot: the same key from the token, no provisioning.
        let second = try TrackerdBinary.start(arguments, environment: token.environment)
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0, "\(second.stderrLines.items.suffix(5))")
        #expect(!second.stderrLines.items.contains { $0.contains("provisioning with the claim certificate") })
        #expect(second.stderrLines.items.contains { $0.contains("connected to localhost:\(cloud.port) as tracker_10000000abcd") })
        let everything = (log + second.stderrLines.items).joined(separator: "\n")
        #expect(!everything.contains(token.pin + "\n") && !everything.contains("pin-value"), "the PIN is never logged")

        // A wrong PIN or a PIN file others can read stops with 77 and what to do.
        try Data("0000\n".utf8).write(to: URL(fileURLWithPath: token.pinFile))
        let wrong = try TrackerdBinary.start(arguments, environment: token.environment)
        #expect(await wrong.waitForExit(timeout: .seconds(30)) == 77)
        #expect(wrong.stderrLines.items.contains { $0.contains("cannot be used: check [credentials] pin_file holds the token's user PIN") },
                "\(wrong.stderrLines.items.suffix(3))")
        chmod(token.pinFile, 0o644)
        let open = try TrackerdBinary.start(arguments, environment: token.environment)
        #expect(await open.waitForExit(timeout: .seconds(30)) == 77)
        #expect(open.stderrLines.items.contains { $0.contains("the PIN file \(token.pinFile) is readable by others (mode 644): chmod 600 it") },
                "\(open.stderrLines.items.suffix(3))")
    }
}
