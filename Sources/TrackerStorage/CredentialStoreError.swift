#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
/// A credential file or directory that cannot be used, with the command that fixes it.
public enum CredentialStoreError: Error, Equatable, CustomStringConvertible {
    case keyTooOpen(path: String, mode: UInt32)
    case wrongOwner(path: String, owner: UInt32, expected: UInt32)
    case directoryTooOpen(path: String, mode: UInt32)
    case io(path: String, operation: String, errno: Int32)
    case unreadable(path: String, detail: String)

    public var description: String {
        switch self {
        case .keyTooOpen(let path, let mode):
            "the private key \(path) is readable by others (mode \(Self.octal(mode))); fix: chmod 600 \(path)"
        case .wrongOwner(let path, let owner, let expected):
            "\(path) belongs to uid \(owner), not to trackerd's uid \(expected); fix: chown \(Self.userName(expected)) \(path)"
        case .directoryTooOpen(let path, let mode):
            "the credential directory \(path) is open to others (mode \(Self.octal(mode))); fix: chmod 700 \(path)"
        case .io(let path, let operation, let code):
            "\(operation) \(path) failed: \(String(cString: strerror(code)))"
        case .unreadable(let path, let detail):
            "\(path) cannot be read: \(detail)"
        }
    }

    static func octal(_ mode: UInt32) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    static func userName(_ uid: UInt32) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }
}
