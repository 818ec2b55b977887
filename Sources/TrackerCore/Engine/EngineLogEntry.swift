/// A line for the journal that the engine decided to write: the executable hands it to its
/// logger (swift-log), which the core does not depend on.
public struct EngineLogEntry: Sendable, Equatable {
    /// syslog's severities, as swift-log names them.
    public enum Level: String, Sendable, Comparable {
        case trace, debug, info, notice, warning, error, critical

        private var rank: Int {
            switch self {
            case .trace: 0
            case .debug: 1
            case .info: 2
            case .notice: 3
            case .warning: 4
            case .error: 5
            case .critical: 6
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    public var level: Level
    public var message: String
    /// Journal fields: `event` names what happened for `journalctl EVENT=...`.
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}
