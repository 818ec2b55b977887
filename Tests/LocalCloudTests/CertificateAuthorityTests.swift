import Foundation
import Testing
import TestSupport
import TrackerCrypto
@testable import LocalCloud

/// localcloud's CA, judged by `openssl verify`.
@Suite struct CertificateAuthorityTests {
    func verify(_ certificate: String, ca: String, purpose: String) throws -> String {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try ca.write(to: dir.file("ca.pem"), atomically: true, encoding: .utf8)
        try certificate.write(to: dir.file("cert.pem"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["verify", "-purpose", purpose, "-CAfile", dir.file("ca.pem").path, dir.file("cert.pem").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func signsADevicesCSRWithItsSerial() throws {
        let (ca, _) = try CertificateAuthority.create(commonName: "localcloud test CA")
        let key = try DeviceKeys.generateKey()
        let csr = try DeviceKeys.certificateSigningRequest(keyPEM: key, commonName: "10000000a1b2c3d4")
        let certificate = try ca.sign(csrPEM: csr)
        #expect(try verify(certificate, ca: ca.certificatePEM, purpose: "sslclient").hasSuffix(": OK"))
        #expect(DeviceKeys.certificate(certificate, matches: key) == true)
        #expect(DeviceKeys.info(certificate)?.certificateId.count == 64)
    }

    @Test func refusesAnythingButAValidCSR() throws {
        let (ca, _) = try CertificateAuthority.create(commonName: "localcloud test CA")
        #expect(throws: CertificateAuthority.IssueError(reason: "not a PEM certificate signing request")) {
            try ca.sign(csrPEM: "-----BEGIN CERTIFICATE REQUEST-----\nnonsense\n-----END CERTIFICATE REQUEST-----\n")
        }
    }

    @Test func issuesServerAndKeyPairCertificates() throws {
        let (ca, _) = try CertificateAuthority.create(commonName: "localcloud test CA")
        let server = try ca.issueServerCertificate(commonName: "localhost", subjectAltName: "DNS:localhost,IP:127.0.0.1")
        #expect(try verify(server.certificate, ca: ca.certificatePEM, purpose: "sslserver").hasSuffix(": OK"))
        let device = try ca.issueKeysAndCertificate(commonName: "10000000a1b2c3d4")
        #expect(DeviceKeys.certificate(device.certificate, matches: device.key) == true)
    }
}

/// Rotation on the cloud side: the registry keeps the certificate a rotation replaced until the
/// thing is online with the new one, then revokes it; the CRL names exactly the revoked ones.
@Suite struct CertificateRevocationTests {
    @Test func aRotatedAwayCertificateIsRevokedOnceTheNewOneIsOnlineAndOnlyThen() throws {
        let (ca, _) = try CertificateAuthority.create(commonName: "localcloud test CA")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        func certificate() throws -> (id: String, pem: String) {
            let key = try DeviceKeys.generateKey()
            let pem = try ca.sign(csrPEM: try DeviceKeys.certificateSigningRequest(keyPEM: key, commonName: "10000000abcd"), days: 2)
            return (try #require(DeviceKeys.info(pem)).certificateId, pem)
        }
        let registry = try ThingRegistry(path: dir.file("registry.json").path)
        func register(_ issued: (id: String, pem: String)) throws {
            try registry.register(.init(thingName: "tracker_1", certificateId: issued.id, identity: "10000000abcd", attributes: [:],
                                        policyName: nil, registeredAt: "now", serial: CertificateAuthority.serial(of: issued.pem)))
        }
        let first = try certificate(), second = try certificate()
        try register(first)
        try register(second)
        #expect(registry.thing(named: "tracker_1")?.retired?.map(\.certificateId) == [first.id])
        #expect(registry.revokedSerials.isEmpty, "nothing is revoked before the new certificate is seen online")
        #expect(try registry.confirm(thingName: "tracker_1", certificateId: first.id).isEmpty, "online with the old one: kept")
        #expect(try registry.confirm(thingName: "tracker_1", certificateId: second.id) == [first.id])
        #expect(try registry.confirm(thingName: "tracker_1", certificateId: second.id).isEmpty, "once")
        let serial = try #require(CertificateAuthority.serial(of: first.pem))
        #expect(registry.revokedSerials == [serial])
        #expect(try ThingRegistry(path: dir.file("registry.json").path).revokedSerials == [serial], "saved")

        let crl = try ca.revocationList(serials: registry.revokedSerials)
        try crl.write(to: dir.file("crl.pem"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["crl", "-in", dir.file("crl.pem").path, "-noout", "-text"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("Serial Number: \(serial)"), "\(text)")
        #expect(text.components(separatedBy: "Serial Number:").count == 2, "only the revoked one")
        #expect(try !ca.revocationList(serials: []).isEmpty, "an empty list for a fresh cloud")
    }
}
