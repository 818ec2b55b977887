import Foundation
import Testing
import TestSupport
@testable import TrackerCrypto

/// Our OpenSSL calls against the openssl command line tool as the independent judge.
@Suite struct DeviceKeysTests {
    func openssl(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe(), inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = inputPipe
        try process.run()
        if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inputPipe.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [DeviceKeys.KeyType.ecP256, .rsa(bits: 2048)])
    func aCSRCarriesTheSerialAndIsSignedByTheKey(type: DeviceKeys.KeyType) throws {
        let key = try DeviceKeys.generateKey(type)
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let csr = try DeviceKeys.certificateSigningRequest(keyPEM: key, commonName: "10000000a1b2c3d4")
        #expect(csr.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----"))
        let verified = try openssl(["req", "-verify", "-noout", "-subject", "-nameopt", "RFC2253"], input: csr)
        #expect(verified.contains("subject=CN=10000000a1b2c3d4"), "\(verified)")
        let keyText = try openssl(["pkey", "-noout", "-text"], input: key)
        #expect(keyText.contains(type == .ecP256 ? "NIST CURVE: P-256" : "Private-Key: (2048 bit"), "\(keyText.prefix(80))")
    }

    @Test func certificatesAreMatchedToKeysAndNamedAsAWSDoes() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let certificate = try String(contentsOfFile: pki.path("client.pem"), encoding: .utf8)
        let key = try String(contentsOfFile: pki.path("client.key"), encoding: .utf8)
        let other = try String(contentsOfFile: pki.path("rogue.key"), encoding: .utf8)
        #expect(DeviceKeys.certificate(certificate, matches: key) == true)
        #expect(DeviceKeys.certificate(certificate, matches: other) == false)
        #expect(DeviceKeys.certificate("garbage", matches: key) == nil)

        let info = try #require(DeviceKeys.info(certificate))
        let fingerprint = try openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", pki.path("client.pem")])
        let expectedID = fingerprint.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "").lowercased()
        #expect(info.certificateId == expectedID)
        #expect(info.certificateId.count == 64)
        let expired = try #require(DeviceKeys.info(try String(contentsOfFile: pki.path("expired.pem"), encoding: .utf8)))
        #expect(expired.notBefore == 1_577_836_800 && expired.notAfter == 1_580_428_800)
        #expect(info.notAfter > info.notBefore)
        #expect(DeviceKeys.info("not a certificate") == nil)
    }
}

extension DeviceKeysTests {
    /// Which half of a pair is unusable is named, so the operator replaces the right file.
    @Test func aPairCheckNamesTheUnreadableHalf() async throws {
        let pki = try await TestPKI.make()
        defer { pki.remove() }
        let certificate = try String(contentsOfFile: pki.path("client.pem"), encoding: .utf8)
        let key = try String(contentsOfFile: pki.path("client.key"), encoding: .utf8)
        let other = try String(contentsOfFile: pki.path("server.key"), encoding: .utf8)
        #expect(DeviceKeys.pair(certificatePEM: certificate, keyPEM: key) == .matching)
        #expect(DeviceKeys.pair(certificatePEM: certificate, keyPEM: other) == .mismatched)
        #expect(DeviceKeys.pair(certificatePEM: "", keyPEM: key) == .certificateUnreadable)
        #expect(DeviceKeys.pair(certificatePEM: certificate, keyPEM: "garbage") == .keyUnreadable)
        #expect(DeviceKeys.pair(certificatePEM: key, keyPEM: certificate) == .certificateUnreadable)
        #expect(throws: ClientCredentials.Problem.self) {
            try ClientCredentials.check(certificateFile: pki.path("client.pem"), keyFile: pki.path("nonexistent.key"))
        }
        try ClientCredentials.check(certificateFile: pki.path("client.pem"), keyFile: pki.path("client.key"))
    }
}
