/// The `[queue]` section: `QueuePolicy` as read from the file.
extension QueuePolicy {
    static let keys = ["durability", "commit_interval_s", "spill_after_s", "max_messages", "max_bytes", "max_inflight", "backlog_batch"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        self.init()
        let s = "queue"
        if let (text, line) = reader.string(table, s, "durability") {
            if let mode = QueueDurability(rawValue: text) { durability = mode } else {
                reader.fail(line, "queue.durability", "\"\(text)\" must be \"batched\" or \"every-message\"")
            }
        }
        if let seconds = reader.number(table, s, "commit_interval_s", range: 0.1...3600) {
            commitInterval = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let seconds = reader.number(table, s, "spill_after_s", range: 0...3600) {
            spillAfter = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let n = reader.integer(table, s, "max_messages", range: 1...10_000_000) { maxMessages = Int(n) }
        if let n = reader.integer(table, s, "max_bytes", range: 1024...(4 << 30)) { maxBytes = Int(n) }
        if let n = reader.integer(table, s, "max_inflight", range: 1...100) { maxInflight = Int(n) }
        if let n = reader.integer(table, s, "backlog_batch", range: 1...1000) { backlogBatch = Int(n) }
        reader.unknownKeys(in: table, section: s, known: Self.keys)
    }
}
