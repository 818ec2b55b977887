import CDeviceCrypto

/// A file's SHA-256, as job documents give it: a downloaded package or zone set is used only
/// once its digest and size match.
public enum FileDigest {
    public struct Unreadable: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "cannot read \(path) to check its sha256" }
    }

    /// 64 lowercase hex digits, and the size in bytes.
    public static func sha256(of path: String) throws(Unreadable) -> (sha256: String, size: Int64) {
        var hex = [CChar](repeating: 0, count: 65)
        var size: Int64 = 0
        guard trackerd_sha256_file(path, &hex, &size) == 0 else { throw Unreadable(path: path) }
        return (String(decoding: hex.prefix(64).map { UInt8(bitPattern: $0) }, as: UTF8.self), size)
    }
}
