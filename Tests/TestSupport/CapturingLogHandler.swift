import Logging

/// A swift-log handler that records each message (level and text with metadata) in an `EventLog`,
/// so a test can wait for "GPS receiver lost" instead of guessing when it was logged.
public struct CapturingLogHandler: LogHandler {
    public struct Entry: Sendable, CustomStringConvertible {
        public let level: Logger.Level
        public let message: String
        public var description: String { "[\(level)] \(message)" }
    }

    public let events: EventLog<Entry>
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(events: EventLog<Entry>) {
        self.events = events
    }

    public static func logger(_ events: EventLog<Entry>) -> Logger {
        Logger(label: "test") { _ in CapturingLogHandler(events: events) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = event.message.description
        if let extra = event.metadata, !extra.isEmpty {
            text += " " + extra.keys.sorted().map { "\($0)=\(extra[$0]!)" }.joined(separator: " ")
        }
        events.append(Entry(level: event.level, message: text))
        print("log [\(event.level)] \(text)")
    }
}
