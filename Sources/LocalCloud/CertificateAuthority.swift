/// LocalCloud: AWS IoT Core's fleet provisioning, played on a real Mosquitto broker, for tests,
/// demos and self-hosters. This file: the certificate authority that issues device certificates.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCertificateAuthority
import TrackerCrypto

public struct CertificateAuthority: Sendable {
    public let certificatePEM: String
    private let keyPEM: String

    public struct IssueError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public init(certificatePEM: String, keyPEM: String) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    /// A new CA with its own EC P-256 key.
    public static func create(commonName: String, days: Int = 3650) throws(IssueError) -> (CertificateAuthority, keyPEM: String) {
        let key: String
        do { key = try DeviceKeys.generateKey(.ecP256) } catch { throw IssueError(reason: "\(error)") }
        let certificate = try call { localcloud_make_ca(key, commonName, Int32(days), $0, $1) }
        return (CertificateAuthority(certificatePEM: certificate, keyPEM: key), key)
    }

    /// Signs a device's CSR (CreateCertificateFromCsr); the CSR's signature must verify.
    public func sign(csrPEM: String, days: Int = 365) throws(IssueError) -> String {
        try Self.call { localcloud_sign_csr(certificatePEM, keyPEM, csrPEM, Int32(days), nil, 0, $0, $1) }
    }

    /// A server certificate for the broker, for the given subjectAltName ("DNS:localhost,IP:127.0.0.1").
    public func issueServerCertificate(commonName: String, subjectAltName: String, days: Int = 825) throws(IssueError) -> (certificate: String, key: String) {
        let key: String, csr: String
        do {
            key = try DeviceKeys.generateKey(.ecP256)
            csr = try DeviceKeys.certificateSigningRequest(keyPEM: key, commonName: commonName)
        } catch { throw IssueError(reason: "\(error)") }
        let certificate = try Self.call { localcloud_sign_csr(certificatePEM, keyPEM, csr, Int32(days), subjectAltName, 1, $0, $1) }
        return (certificate, key)
    }

    /// CreateKeysAndCertificate: a key made here and a certificate for it.
    public func issueKeysAndCertificate(commonName: String, days: Int = 365) throws(IssueError) -> (certificate: String, key: String) {
        let key: String, csr: String
        do {
            key = try DeviceKeys.generateKey(.ecP256)
            csr = try DeviceKeys.certificateSigningRequest(keyPEM: key, commonName: commonName)
        } catch { throw IssueError(reason: "\(error)") }
        return (try sign(csrPEM: csr, days: days), key)
    }

    /// A CRL that revokes the certificates with these serial numbers (hex), for Mosquitto's
    /// `crlfile`: the broker then refuses them at the TLS handshake.
    public func revocationList(serials: [String], days: Int = 3650) throws(IssueError) -> String {
        var pointers = serials.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return try pointers.withUnsafeMutableBufferPointer { buffer throws(IssueError) -> String in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
            return try Self.call { localcloud_make_crl(certificatePEM, keyPEM, serials.isEmpty ? nil : base, Int32(serials.count), Int32(days), $0, $1) }
        }
    }

    /// A certificate's serial number in hex.
    public static func serial(of certificatePEM: String) -> String? {
        guard let text = localcloud_certificate_serial(certificatePEM) else { return nil }
        defer { free(text) }
        return String(cString: text)
    }

    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> UnsafeMutablePointer<CChar>?) throws(IssueError) -> String {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = error.withUnsafeMutableBufferPointer({ body($0.baseAddress!, $0.count) }) else {
            throw IssueError(reason: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { free(text) }
        return String(cString: text)
    }
}
