#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads files and pipes with plain read(2), in chunks, without Foundation.
public enum FileReader {
    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32

        public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }

        /// True when the file does not exist (as opposed to existing but unreadable).
        public var isMissing: Bool { errno == ENOENT }
    }

    /// Calls `body` with each chunk of `path` ("-" is standard input) until its end.
    public static func forEachChunk(_ path: String, _ body: (ArraySlice<UInt8>) -> Void) throws(ReadError) {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { if fd != 0 { close(fd) } }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if count == 0 { return }
            body(chunk[0..<count])
        }
    }

    public static func readAll(_ path: String) throws(ReadError) -> [UInt8] {
        var bytes: [UInt8] = []
        try forEachChunk(path) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
