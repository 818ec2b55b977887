#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore

/// journald's native protocol: one datagram of `KEY=value` lines to /run/systemd/journal/socket
/// (`$TRACKERD_JOURNAL_SOCKET` in tests). Metadata becomes fields: `event` → `TRACKERD_EVENT`,
/// any other key upper-cased (`thing` → `THING`); values are kept on one line.
public enum JournalSocket {
    public static var path: String {
        getenv("TRACKERD_JOURNAL_SOCKET").map { String(cString: $0) } ?? "/run/systemd/journal/socket"
    }

    /// The datagram's text.
    public static func entry(message: String, priority: Int, fields: Logger.Metadata) -> String {
        var text = "MESSAGE=\(ControlCharacters.escaped(message))\nPRIORITY=\(priority)\nSYSLOG_IDENTIFIER=trackerd\n"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            let name = key == "event" ? "TRACKERD_EVENT" : key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
            text += "\(name)=\(ControlCharacters.escaped("\(value)"))\n"
        }
        return text
    }

    /// False if the journal could not be reached (the caller writes to stderr instead).
    public static func send(message: String, priority: Int, fields: Logger.Metadata) -> Bool {
        UnixDatagram.send(Array(entry(message: message, priority: priority, fields: fields).utf8), to: path)
    }
}
