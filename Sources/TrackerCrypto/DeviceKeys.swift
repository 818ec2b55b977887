/// TrackerCrypto: the device's key material through OpenSSL (`CDeviceCrypto`): keys made on the
/// device, CSRs, and the checks run before credentials are trusted. Nothing here logs a key.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CDeviceCrypto

public enum DeviceKeys {
    public enum KeyType: Sendable, Equatable {
        case ecP256
        case rsa(bits: Int)
    }

    public struct CryptoError: Error, Equatable, CustomStringConvertible {
        public let operation: String
        public let reason: String
        public var description: String { "\(operation) failed: \(reason)" }
    }

    /// A new private key, PKCS#8 PEM.
    public static func generateKey(_ type: KeyType = .ecP256) throws(CryptoError) -> String {
        let bits: Int32 = switch type {
        case .ecP256: 0
        case .rsa(let bits): Int32(bits)
        }
        return try take("key generation") { trackerd_generate_key(bits, $0, $1) }
    }

    /// A CSR for `keyPEM` whose subject CN is `commonName` (the board's serial number).
    public static func certificateSigningRequest(keyPEM: String, commonName: String) throws(CryptoError) -> String {
        try take("CSR") { trackerd_make_csr(keyPEM, commonName, $0, $1) }
    }

    /// nil when either PEM cannot be read.
    public static func certificate(_ certificatePEM: String, matches keyPEM: String) -> Bool? {
        switch pair(certificatePEM: certificatePEM, keyPEM: keyPEM) {
        case .matching: true
        case .mismatched: false
        case .certificateUnreadable, .keyUnreadable: nil
        }
    }

    public enum PairCheck: Sendable, Equatable {
        case matching, mismatched, certificateUnreadable, keyUnreadable
    }

    /// Whether a certificate and a private key belong together, or which of them is not PEM.
    public static func pair(certificatePEM: String, keyPEM: String) -> PairCheck {
        switch trackerd_certificate_matches_key(certificatePEM, keyPEM) {
        case 1: .matching
        case 0: .mismatched
        case -2: .keyUnreadable
        default: .certificateUnreadable
        }
    }

    public struct CertificateInfo: Sendable, Equatable {
        public let notBefore: Int64
        public let notAfter: Int64
        /// SHA-256 of the DER, lowercase hex: AWS IoT's certificateId.
        public let certificateId: String
    }

    public static func info(_ certificatePEM: String) -> CertificateInfo? {
        var notBefore: Int64 = 0, notAfter: Int64 = 0
        var hex = [CChar](repeating: 0, count: 65)
        guard trackerd_certificate_info(certificatePEM, &notBefore, &notAfter, &hex) == 0 else { return nil }
        return CertificateInfo(notBefore: notBefore, notAfter: notAfter, certificateId: String(nulTerminated: hex))
    }

    /// The certificate subject's common name.
    public static func commonName(_ certificatePEM: String) -> String? {
        guard let text = trackerd_certificate_common_name(certificatePEM) else { return nil }
        defer { free(text) }
        return String(cString: text)
    }

    private static func take(_ operation: String,
                             _ call: (UnsafeMutablePointer<CChar>, Int) -> UnsafeMutablePointer<CChar>?) throws(CryptoError) -> String {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = error.withUnsafeMutableBufferPointer({ call($0.baseAddress!, $0.count) }) else {
            throw CryptoError(operation: operation, reason: String(nulTerminated: error))
        }
        defer {
            memset(text, 0, strlen(text))
            free(text)
        }
        return String(cString: text)
    }
}

extension String {
    /// The text of a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
