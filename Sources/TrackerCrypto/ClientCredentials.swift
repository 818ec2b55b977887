import TrackerCore
import TrackerSystem

/// The MQTT client certificate and key, checked before the first connection: a garbage, empty
/// or mismatched pair can never connect, and retrying "TLS setup failed" forever tells the
/// operator nothing. `run` exits 77 (restart cannot help) with what to do instead.
public enum ClientCredentials {
    public enum Problem: Error, CustomStringConvertible {
        case unreadable(FileReader.ReadError)
        case notACertificate(path: String)
        case notAKey(path: String)
        case mismatched(certificate: String, key: String)
        /// The token would not give the key (PIN, token or key missing).
        case tokenKeyUnusable(key: String)

        public var description: String {
            switch self {
            case .unreadable(let error):
                "\(error)"
            case .notACertificate(let path):
                "\(path) holds no PEM certificate (empty or damaged): install the device certificate there, "
                    + "or with [provisioning] remove it to provision again"
            case .notAKey(let path):
                "\(path) holds no PEM private key (empty, damaged or encrypted): install the device's unencrypted key there, "
                    + "or with [provisioning] remove the device certificate and key to provision again"
            case .tokenKeyUnusable(let key):
                "the key \(key) cannot be used: check [credentials] pin_file holds the token's user PIN, and that the token and the key are there"
            case .mismatched(let certificate, let key):
                "the certificate \(certificate) was not issued for the key \(key): install the certificate and key that belong together"
            }
        }
    }

    public static func check(certificateFile: String, keyFile: String) throws(Problem) {
        let certificate = try read(certificateFile), key = try read(keyFile)
        switch DeviceKeys.pair(certificatePEM: certificate, keyPEM: key) {
        case .matching: return
        case .mismatched: throw .mismatched(certificate: certificateFile, key: keyFile)
        case .certificateUnreadable: throw .notACertificate(path: certificateFile)
        case .keyUnreadable: throw .notAKey(path: keyFile)
        }
    }

    /// The same check for a key in the (open) token.
    public static func check(certificateFile: String, tokenKey: PKCS11URI) throws(Problem) {
        let certificate = try read(certificateFile)
        switch TokenKeys.pair(certificatePEM: certificate, key: tokenKey) {
        case .matching: return
        case .mismatched: throw .mismatched(certificate: certificateFile, key: tokenKey.keyURI)
        case .certificateUnreadable: throw .notACertificate(path: certificateFile)
        case .keyUnreadable: throw .tokenKeyUnusable(key: tokenKey.keyURI)
        }
    }

    private static func read(_ path: String) throws(Problem) -> String {
        do {
            return String(decoding: try FileReader.readAll(path), as: UTF8.self)
        } catch {
            throw .unreadable(error)
        }
    }
}
