extension Array where Element == EngineAction {
    /// Appends a journal line.
    mutating func log(_ level: EngineLogEntry.Level, _ message: String, _ metadata: [String: String] = [:]) {
        append(.log(EngineLogEntry(level, message, metadata)))
    }
}
