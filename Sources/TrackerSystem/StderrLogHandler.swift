#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization
import TrackerCore

/// Writes each log event as one line on stderr.
///
/// Under systemd, when stderr is the journal (`$JOURNAL_STREAM` names the device and inode of
/// fd 2), each line starts with its syslog priority (`<6>`) and carries no timestamp: journald
/// stamps it. Otherwise the line starts with a UTC timestamp and the level name.
/// Each line goes out in one write(2), so lines from different threads never interleave.
public struct StderrLogHandler: LogHandler {
    /// The level every handler uses once set (the device shadow's `log_level` changes a running
    /// daemon's level); 0 = each handler's own. swift-log asks the handler for its level at each
    /// call, so loggers already handed out follow the change too.
    private static let levelInForce = Atomic<Int>(0)

    /// Sets the level of every logger in the process (nil: back to each one's own).
    public static func setLevelInForce(_ level: Logger.Level?) {
        levelInForce.store(level.map { Logger.Level.allCases.firstIndex(of: $0)! + 1 } ?? 0, ordering: .relaxed)
    }

    public var logLevel: Logger.Level {
        get {
            let index = Self.levelInForce.load(ordering: .relaxed)
            return index > 0 ? Logger.Level.allCases[index - 1] : ownLevel
        }
        set { ownLevel = newValue }
    }

    private var ownLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let journal: Bool

    public init(label: String, level: Logger.Level = .info, journal: Bool = StderrLogHandler.stderrIsJournal()) {
        ownLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        // Events an operator filters on (metadata "event") go to the journal natively, with
        // their fields (TRACKERD_EVENT=, THING=, ZONE=, ...); stderr is the fallback.
        if journal, merged["event"] != nil,
           JournalSocket.send(message: event.message.description, priority: Self.priority(event.level), fields: merged) {
            return
        }
        let line = Self.format(level: event.level, message: event.message.description, metadata: merged,
                               journal: journal, now: journal ? nil : WallClock.now())
        StandardError.write(line)
    }

    /// The text of one line, newline included. Control characters in the message and metadata are
    /// escaped, so one event stays one journal entry and no value can start a line of its own.
    public static func format(level: Logger.Level, message: String, metadata: Logger.Metadata,
                              journal: Bool, now: UTCTimestamp?) -> String {
        var text = journal ? "<\(priority(level))>" : ""
        if let now { text += now.iso8601 + " " }
        if !journal { text += level.rawValue + ": " }
        text += ControlCharacters.escaped(message)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            text += " \(key)=" + ControlCharacters.escaped("\(value)")
        }
        return text + "\n"
    }

    /// syslog priorities as journald reads them from a `<N>` prefix.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// True when `$JOURNAL_STREAM` ("device:inode") is the file on fd 2, as systemd documents.
    public static func stderrIsJournal(environment value: String? = getenv("JOURNAL_STREAM").map { String(cString: $0) }) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
