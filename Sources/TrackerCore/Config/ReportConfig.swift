/// The `[report]` section: `ReportPolicy` as read from the file, and the deprecated
/// `[gps] min_interval_s` / `min_distance_m` it replaces (still honoured, with a warning).
extension ReportPolicy {
    static let keys = ["policy", "moving_interval_s", "min_distance_m", "heading_change_deg", "stop_speed_mps", "stop_after_s",
                       "stopped_interval_s", "overspeed_mps", "overspeed_after_s"]

    /// `base`: the policy the table's keys change (the file's, for the shadow's `report`).
    init(_ table: TOMLTable, gps: TOMLTable, _ reader: ConfigReader, base: ReportPolicy = ReportPolicy()) {
        self = base
        let s = "report"
        if let (text, line) = reader.string(table, s, "policy") {
            if let value = Mode(rawValue: text) { mode = value } else {
                reader.fail(line, "report.policy", "\"\(text)\" must be \"adaptive\" or \"every-fix\"")
            }
        }
        func duration(_ key: String, _ range: ClosedRange<Double>) -> Duration? {
            reader.number(table, s, key, range: range).map { .milliseconds(Int64(($0 * 1000).rounded())) }
        }
        if let value = duration("moving_interval_s", 1...86_400) { movingInterval = value }
        if let value = reader.number(table, s, "min_distance_m", range: 0...1_000_000) { minDistance = value }
        if let value = reader.number(table, s, "heading_change_deg", range: 0...180) { headingChange = value }
        if let value = reader.number(table, s, "stop_speed_mps", range: 0.1...50) { stopSpeed = value }
        if let value = duration("stop_after_s", 1...86_400) { stopAfter = value }
        if let value = duration("stopped_interval_s", 10...604_800) { stoppedInterval = value }
        if let value = reader.number(table, s, "overspeed_mps", range: 0...200) { overspeed = value }
        if let value = duration("overspeed_after_s", 0...3600) { overspeedAfter = value }
        reader.unknownKeys(in: table, section: s, known: Self.keys)

        // The keys of before [report]: the old meaning, "a fix when either is reached since the
        // last published one", with both at 0 meaning every fix.
        let interval = gps["min_interval_s"], distance = gps["min_distance_m"]
        guard interval != nil || distance != nil else { return }
        let line = interval?.line ?? distance?.line ?? gps.line
        guard table.keys.isEmpty else {
            reader.fail(line, interval != nil ? "gps.min_interval_s" : "gps.min_distance_m",
                        "is replaced by [report]; with a [report] section, write the setting there only")
            return
        }
        let seconds = reader.number(gps, "gps", "min_interval_s", range: 0...86_400) ?? 0
        let metres = reader.number(gps, "gps", "min_distance_m", range: 0...1_000_000) ?? 0
        if seconds == 0 && metres == 0 {
            mode = .everyFix
            reader.warn(line, "gps.min_interval_s", "is deprecated; it now means [report] policy = \"every-fix\": write that instead")
        } else {
            if seconds > 0 { movingInterval = .milliseconds(Int64((seconds * 1000).rounded())) }
            minDistance = metres
            reader.warn(line, interval != nil ? "gps.min_interval_s" : "gps.min_distance_m",
                        "is deprecated; it now means [report] moving_interval_s = \(JSONNumber.fixed(max(seconds, 1), 1)), min_distance_m = \(JSONNumber.fixed(metres, 1)): write that instead")
        }
    }
}
