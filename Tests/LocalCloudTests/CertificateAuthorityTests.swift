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
