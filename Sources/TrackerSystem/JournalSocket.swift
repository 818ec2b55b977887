#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// journald's native protocol: one datagram of `KEY=value` lines to /run/systemd/journal/socket
/// (`$TRACKERD_JOURNAL_SOCKET` in tests). Metadata becomes fields: `event` → `TRACKERD_EVENT`,
/// any other key upper-cased (`thing` → `THING`); values are kept on one line.
public enum JournalSocket {
    public static var path: String {
        getenv("TRACKERD_JOURNAL_SOCKET").map { String(cString: $0) } ?? "/run/systemd/journal/socket"
    }

    /// The datagram's text.
    public static func entry(message: String, priority: Int, fields: Logger.Metadata) -> String {
        func clean(_ text: String) -> String { text.split(whereSeparator: \.isNewline).joined(separator: " ") }
        var text = "MESSAGE=\(clean(message))\nPRIORITY=\(priority)\nSYSLOG_IDENTIFIER=trackerd\n"
        for key in fields.keys.sorted() {
            let name = key == "event" ? "TRACKERD_EVENT" : key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
            text += "\(name)=\(clean("\(fields[key]!)"))\n"
        }
        return text
    }

    /// False if the journal could not be reached (the caller writes to stderr instead).
    public static func send(message: String, priority: Int, fields: Logger.Metadata) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(self.path.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.enumerated() { buffer[i] = byte }
        }
        let bytes = Array(entry(message: message, priority: priority, fields: fields).utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent == bytes.count
    }
}
