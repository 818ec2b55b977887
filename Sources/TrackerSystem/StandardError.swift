import SystemPackage

/// Writes to fd 2 with write(2): one call per line when it fits, so lines written by different
/// threads never interleave, and no stdio buffer holds a line back when the process dies.
public enum StandardError {
    public static func write(_ text: String) {
        // Nowhere to report a failure to write to stderr.
        _ = try? FileDescriptor.standardError.writeAll(text.utf8)
    }

    /// `text` as one line.
    public static func line(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n")
    }
}
