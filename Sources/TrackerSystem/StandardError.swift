#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes to fd 2 with write(2): one call per line when it fits, so lines written by different
/// threads never interleave, and no stdio buffer holds a line back when the process dies.
public enum StandardError {
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// `text` as one line.
    public static func line(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n")
    }
}
