import Foundation
import Testing
import TestSupport

/// trackerd with its keys in a real PKCS#11 token (SoftHSM2) against localcloud: the claim key
/// imported into the token, the device key made there at first boot, TLS signed there, and no
/// private key file anywhere under the store.
@Suite(.enabled(if: SoftHSMToken.available, "needs softhsm2 (make test installs it)"))
struct TokenCredentialsTests {
    typealias Cloud = ProvisioningEndToEndTests.LocalCloudSetup

    /// A token of either kind, as a test uses it.
    struct Token: Sendable {
        let module: String
        let label: String
        let pin: String
        let pinFile: String
        let environment: [String: String]
        let remove: @Sendable () -> Void
    }

    /// A token ("softhsm2" or "swtpm") holding the cloud's claim key (imported, then the file
    /// removed), and a config that keeps the device key in the same token.
    static func prepare(_ cloud: Cloud, kind: String, extra: String = "") async throws -> (Token, String) {
        try #require(kind != "swtpm" || SoftwareTPM.available, "needs swtpm, tpm2-abrmd and tpm2-pkcs11 (make test installs them)")
        let claimKey = cloud.cloud + "/claim/private.pem.key"
        let token: Token
        if kind == "swtpm" {
            let tpm = try await SoftwareTPM.start()
            try await tpm.importKey(claimKey, label: "claim")
            token = Token(module: SoftwareTPM.module, label: tpm.label, pin: tpm.pin, pinFile: tpm.pinFile, environment: tpm.environment,
                          remove: { tpm.stop() })
        } else {
            let softhsm = try SoftHSMToken()
            let importer = try ChildProcess("/usr/bin/softhsm2-util", ["--import", claimKey, "--token", softhsm.label, "--label", "claim",
                                                                       "--id", "c1a1", "--pin", softhsm.pin], environment: softhsm.environment)
            #expect(await importer.waitForExit(timeout: .seconds(20)) == 0, "\(importer.stderrLines.items)")
            token = Token(module: SoftHSMToken.module, label: softhsm.label, pin: softhsm.pin, pinFile: softhsm.pinFile,
                          environment: softhsm.environment, remove: { softhsm.remove() })
        }
        try FileManager.default.removeItem(atPath: claimKey)
        let config = try cloud.config("""
            [credentials]
            key = "pkcs11:token=\(token.label);object=device"
            pkcs11_module = "\(token.module)"
            pin_file = "\(token.pinFile)"
            \(extra)
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

    @Test(arguments: ["softhsm2", "swtpm"])
    func provisionsAndPublishesWithTheKeyInTheToken(kind: String) async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let (token, config) = try await Self.prepare(cloud, kind: kind)
        defer { token.remove() }
        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080339, into: drive)
        let arguments = ["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"]

        let first = try TrackerdBinary.start(arguments, environment: token.environment)
        #expect(await first.waitForExit(timeout: .seconds(60)) == 0, "\(first.stderrLines.items.suffix(5))")
        let log = first.stderrLines.items
        #expect(log.contains { $0.contains("made the device key (ec-p256) in the token \"trackerd\"; it never leaves it") },
                "\(log.suffix(5))")
        #expect(log.contains { $0.contains("connected with the claim certificate") }, "TLS signed by the claim key in the token")
        #expect(log.contains { $0.contains("provisioned as tracker_10000000abcd") })
        #expect(log.contains { $0.contains("connected to localhost:\(cloud.port) as tracker_10000000abcd") })
        let fixes = await ProvisioningEndToEndTests.receivedFixes(cloud, atLeast: 20)
        #expect(fixes.count == 20, "every fix reached localcloud over TLS signed in the token")

        let state = cloud.cloud + "/trackerd-state"
        let reference = try String(contentsOfFile: state + "/device/private-key.uri", encoding: .utf8)
        #expect(reference.hasPrefix("pkcs11:token=trackerd;object=device;id=%") && reference.hasSuffix(";type=private\n"))
        #expect(!FileManager.default.fileExists(atPath: state + "/device/private.pem.key"))
        #expect(Self.privateKeyFiles(under: state).isEmpty, "no private key file under the store")
        #expect(Self.privateKeyFiles(under: cloud.cloud + "/claim").isEmpty, "the claim key lives in the token only")
        print("\(kind): provisioned and published 20 fixes with the claim and device keys in the token")

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

    /// The private keys in the token, as OpenSC's pkcs11-tool (an independent PKCS#11 client)
    /// lists them: label, id and access flags, one line each.
    static func privateKeys(_ token: Token) async throws -> [String] {
        let list = try ChildProcess("/usr/bin/pkcs11-tool", ["--module", token.module, "--token-label", token.label, "--login",
                                                             "--pin", token.pin, "--list-objects", "--type", "privkey"],
                                    environment: token.environment)
        #expect(await list.waitForExit(timeout: .seconds(30)) == 0, "\(list.stderrLines.items.suffix(3))")
        var keys: [String] = []
        for line in list.stdoutLines.items {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("Private Key Object") { keys.append("") }
            guard !keys.isEmpty else { continue }
            for field in ["label:", "ID:", "Access:"] where text.hasPrefix(field) {
                keys[keys.count - 1] += field + " " + text.dropFirst(field.count).trimmingCharacters(in: .whitespaces) + "; "
            }
        }
        return keys
    }

    /// A rotation with the key in the token: the next key is made there too, the certificate
    /// switches, and the old key is destroyed in the token; still no key file under the store.
    @Test(arguments: ["softhsm2", "swtpm"])
    func aRotationMakesTheNextKeyInTheTokenAndDestroysTheOld(kind: String) async throws {
        let cloud = try await Cloud.start(certificateDays: 2)
        defer { cloud.stop() }
        let (token, config) = try await Self.prepare(cloud, kind: kind, extra: "rotate_before_days = 7")
        defer { token.remove() }
        let state = cloud.cloud + "/trackerd-state"
        let provision = try TrackerdBinary.start(["provision", "--config", config], environment: token.environment)
        #expect(await provision.waitForExit(timeout: .seconds(60)) == 0, "\(provision.stderrLines.items.suffix(5))")
        let first = try String(contentsOfFile: state + "/device/private-key.uri", encoding: .utf8)

        let drive = cloud.dir.file("drive.nmea")
        try TrackerdBinary.seedDriveCut(080320...080329, into: drive)
        let run = try TrackerdBinary.start(["run", "--config", config, "--replay", drive.path, "--replay-speed", "0"],
                                           environment: token.environment)
        #expect(await run.waitForExit(timeout: .seconds(90)) == 0, "\(run.stderrLines.items.suffix(5))")
        let log = run.stderrLines.items
        #expect(log.contains { $0.contains("made the next device key (ec-p256) in the token \"trackerd\"; it never leaves it") })
        #expect(log.contains { $0.contains("rotated the device certificate: now ") }, "\(log.suffix(5))")
        let second = try String(contentsOfFile: state + "/device.next/private-key.uri", encoding: .utf8)
        #expect(second != first && !FileManager.default.fileExists(atPath: state + "/device/private-key.uri"))
        #expect(Self.privateKeyFiles(under: state).isEmpty, "no private key file under the store")

        let id = try #require(second.split(separator: ";").first { $0.hasPrefix("id=") }).dropFirst(3)
            .replacingOccurrences(of: "%", with: "").lowercased()
        let devices = try await Self.privateKeys(token).filter { $0.contains("label: device;") }
        #expect(devices.count == 1, "the old key was destroyed in the token: \(devices)")
        #expect(devices.first?.contains("ID: \(id);") == true, "\(devices)")
        #expect(devices.first?.contains("never extractable, local") == true, "made in the token, never to leave it: \(devices)")
        print("\(kind): rotated with the next key made in the token; one device key left: \(devices)")
    }
}
