#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTokenKey
import TrackerCore
import TrackerSystem

/// Keys inside a PKCS#11 token (`CTokenKey`): made there, used there, never read out. The
/// module and PIN are the process's (OpenSSL's pkcs11 engine is process-wide), set once by
/// `open` before any other call.
public enum TokenKeys {
    public enum TokenError: Error, Equatable, CustomStringConvertible {
        /// The PIN file is missing, unreadable, empty, or open to others.
        case pinFile(path: String, problem: String)
        /// The module, the token or the key refused (the module's words).
        case token(operation: String, reason: String)

        public var description: String {
            switch self {
            case .pinFile(let path, let problem): "the PIN file \(path) \(problem)"
            case .token(let operation, let reason): "\(operation): \(reason)"
            }
        }
    }

    /// Opens `module` with the user PIN read from `pinFile` (mode 0600, owned by this user; a
    /// trailing newline is not part of the PIN).
    public static func open(module: String, pinFile: String) throws(TokenError) {
        var info = stat()
        guard stat(pinFile, &info) == 0 else {
            throw .pinFile(path: pinFile, problem: "cannot be read: \(String(cString: strerror(errno)))")
        }
        if info.st_uid != geteuid() {
            throw .pinFile(path: pinFile, problem: "belongs to uid \(info.st_uid), not to this user (\(geteuid())): chown it")
        }
        if info.st_mode & 0o077 != 0 {
            throw .pinFile(path: pinFile, problem: "is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it")
        }
        var bytes: [UInt8]
        do { bytes = try FileReader.readAll(pinFile) } catch {
            throw .pinFile(path: pinFile, problem: "cannot be read: \(error)")
        }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw .pinFile(path: pinFile, problem: "is empty") }
        var pin = bytes.map { CChar(bitPattern: $0) } + [0]
        defer { for i in pin.indices { pin[i] = 0 } }
        try call("opening the PKCS#11 module \(module)") { trackerd_token_open(module, pin, $0, $1) }
    }

    /// A new random CKA_ID for a key about to be made: recorded first, so that a key is never
    /// made that nothing names.
    public static func newID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A new key pair in the token of `uri`, labelled as `uri` says, with CKA_ID `uri.id` (a
    /// new random one when it names none): the URI of exactly that key.
    public static func generateKey(_ uri: PKCS11URI, _ type: DeviceKeys.KeyType = .ecP256) throws(TokenError) -> PKCS11URI {
        let id = uri.id ?? newID()
        let bits: Int32 = switch type {
        case .ecP256: 0
        case .rsa(let bits): Int32(bits)
        }
        try call("making a key in the token \"\(uri.token)\"") {
            trackerd_token_generate(uri.token, uri.object, id, id.count, bits, $0, $1)
        }
        return uri.with(id: id)
    }

    /// Destroys the key pair of `uri`: the one with its id, or without one every object with
    /// its label. The number of objects destroyed.
    @discardableResult
    public static func destroyKey(_ uri: PKCS11URI) throws(TokenError) -> Int {
        var count: Int32 = 0
        try call("removing a key from the token \"\(uri.token)\"") { error, length in
            count = if let id = uri.id {
                trackerd_token_destroy(uri.token, nil, id, id.count, error, length)
            } else {
                trackerd_token_destroy(uri.token, uri.object, nil, 0, error, length)
            }
            return count
        }
        return Int(count)
    }

    /// Whether the token holds the private key of `uri` (which names an id).
    public static func hasKey(_ uri: PKCS11URI) throws(TokenError) -> Bool {
        guard let id = uri.id else { return false }
        var found: Int32 = 0
        try call("looking for a key in the token \"\(uri.token)\"") { error, length in
            found = trackerd_token_has_key(uri.token, id, id.count, error, length)
            return found
        }
        return found == 1
    }

    /// A CSR signed inside the token by the key of `uri`, subject CN `commonName`.
    public static func certificateSigningRequest(_ uri: PKCS11URI, commonName: String) throws(TokenError) -> String {
        var error = [CChar](repeating: 0, count: 512)
        guard let text = error.withUnsafeMutableBufferPointer({ trackerd_token_csr(uri.keyURI, commonName, $0.baseAddress!, $0.count) }) else {
            throw .token(operation: "signing the CSR in the token \"\(uri.token)\"", reason: String(nulTerminated: error))
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// Whether `certificatePEM` was issued for the key of `uri`.
    public static func pair(certificatePEM: String, key uri: PKCS11URI) -> DeviceKeys.PairCheck {
        var error = [CChar](repeating: 0, count: 512)
        switch error.withUnsafeMutableBufferPointer({ trackerd_token_certificate_matches(certificatePEM, uri.keyURI, $0.baseAddress!, $0.count) }) {
        case 1: return .matching
        case 0: return .mismatched
        case -2: return .keyUnreadable
        default: return .certificateUnreadable
        }
    }

    private static func call(_ operation: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(TokenError) {
        var error = [CChar](repeating: 0, count: 512)
        let result = error.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if result < 0 { throw .token(operation: operation, reason: String(nulTerminated: error)) }
    }
}
