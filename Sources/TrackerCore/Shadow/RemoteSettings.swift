/// What the `trackerd` shadow's desired state may set, validated with the very readers (and
/// words) of the configuration file: a desired document applies whole or not at all.
///
/// Remote: the `[report]` keys (`report`), `geofences` (a GeoJSON FeatureCollection whose
/// features' properties carry what a `[[geofence]]` does), `log_level` and the
/// status/events/alerts topics. Everything else — endpoint, credentials, store, GPS source —
/// stays in the local file.
public struct RemoteSettings: Sendable, Equatable {
    /// A value the device did not apply, for `reported.errors`.
    public struct Problem: Codable, Sendable, Equatable {
        /// `report.moving_interval_s`
        public var path: String
        /// In check-config's words.
        public var problem: String

        public init(path: String, problem: String) {
            self.path = path
            self.problem = problem
        }

        public var json: JSONValue { .object(["path": .string(path), "problem": .string(problem)]) }
    }

    /// The desired state, refused whole: every problem found in it.
    public struct Invalid: Error, Sendable, Equatable {
        public var problems: [Problem]

        public init(_ problems: [Problem]) { self.problems = problems }
    }

    public static let keys = ["report", "geofences", "log_level", "status_topic", "events_topic", "alerts_topic"]
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The desired state as applied (for the reported state and the local copy).
    public var document: [String: JSONValue] = [:]
    /// The `[report]` keys the shadow sets, each over the file's value of that key.
    var report: TOMLTable?
    /// nil: the file's zones; an empty array: none.
    public var geofences: [GeofenceConfig]?
    public var logLevel: String?
    public var statusTopic: String?
    public var eventsTopic: String?
    public var alertsTopic: String?

    public init() {}

    /// The settings `desired` asks for, or every problem found in it.
    public static func validate(_ desired: JSONValue) -> Result<RemoteSettings, Invalid> {
        guard case .object(let fields) = desired else {
            return .failure(Invalid([Problem(path: "desired", problem: "must be a JSON object")]))
        }
        let reader = ConfigReader(file: "shadow")
        var settings = RemoteSettings()
        var problems: [Problem] = []
        for key in fields.keys.sorted() where !keys.contains(key) {
            problems.append(Problem(path: key, problem: "unknown key; the shadow may set " + keys.joined(separator: ", ")))
        }
        var mqtt = TOMLTable(line: 0)
        for (key, name) in [("status_topic", "status_topic"), ("events_topic", "events_topic"), ("alerts_topic", "alerts_topic")] {
            if let value = fields[key] { mqtt.set(name, toml(value)) }
        }
        let parsed = MQTTConfig(mqtt, reader)
        if let report = fields["report"] {
            guard case .table(let table) = toml(report).kind else {
                return .failure(Invalid(problems + [Problem(path: "report", problem: "must be an object of [report] settings")]))
            }
            _ = ReportPolicy(table, gps: TOMLTable(line: 0), reader)
            settings.report = table
        }
        if let collection = fields["geofences"] {
            let (zones, found) = geofences(collection, reader)
            problems += found
            settings.geofences = zones
        }
        if let level = fields["log_level"] {
            if case .string(let text) = level, logLevels.contains(text) { settings.logLevel = text } else {
                problems.append(Problem(path: "log_level", problem: "must be one of " + logLevels.joined(separator: ", ")))
            }
        }
        problems += reader.errors.map { error in
            Problem(path: path(of: error.key ?? "desired"), problem: error.message)
        }
        guard problems.isEmpty else { return .failure(Invalid(problems)) }
        if fields["status_topic"] != nil { settings.statusTopic = parsed.statusTopic }
        if fields["events_topic"] != nil { settings.eventsTopic = parsed.eventsTopic }
        if fields["alerts_topic"] != nil { settings.alertsTopic = parsed.alertsTopic }
        settings.document = fields
        return .success(settings)
    }

    /// The local configuration with these settings over it (the file first, the shadow on top).
    public func applied(to config: TrackerConfig) -> TrackerConfig {
        var out = config
        if let report { out.report = ReportPolicy(report, gps: TOMLTable(line: 0), ConfigReader(file: "shadow"), base: config.report) }
        if let geofences { out.geofences = geofences }
        if let statusTopic { out.mqtt.statusTopic = statusTopic }
        if let eventsTopic { out.mqtt.eventsTopic = eventsTopic }
        if let alertsTopic { out.mqtt.alertsTopic = alertsTopic }
        return out
    }

    /// AWS IoT Core's limit for a whole shadow document: a zone set larger than that cannot
    /// come through the shadow at all.
    public static let maxGeofenceBytes = NamedShadow.maxDocumentBytes

    static func geofences(_ collection: JSONValue, _ reader: ConfigReader) -> ([GeofenceConfig], [Problem]) {
        let size = collection.bytes.count
        guard size <= maxGeofenceBytes else {
            return ([], [Problem(path: "geofences", problem: "is \(size) bytes, over AWS IoT Core's 8 KB limit for a shadow document; send larger zone sets as a file")])
        }
        return GeofenceCollection.zones(collection, reader, path: "geofences")
    }

    /// A configuration key as a path in the desired document.
    static func path(of key: String) -> String {
        if key.hasPrefix("mqtt.") { return String(key.dropFirst(5)) }
        if key.hasPrefix("geofence["), let close = key.firstIndex(of: "]") {
            let index = key[key.index(key.startIndex, offsetBy: 9)..<close]
            let rest = key[key.index(after: close)...]
            return "geofences.features[\(index)]" + (rest.isEmpty ? "" : ".properties" + rest)
        }
        return key
    }

    /// JSON as the configuration readers see TOML: whole numbers are integers.
    static func toml(_ value: JSONValue) -> TOMLValue {
        switch value {
        case .string(let text): TOMLValue(.string(text), line: 0)
        case .bool(let flag): TOMLValue(.boolean(flag), line: 0)
        case .number(let number):
            if number.rounded() == number, abs(number) < 9e15 { TOMLValue(.integer(Int64(number)), line: 0) } else { TOMLValue(.float(number), line: 0) }
        case .array(let items): TOMLValue(.array(items.map(toml)), line: 0)
        case .object(let object):
            TOMLValue(.table(object.keys.sorted().reduce(into: TOMLTable(line: 0)) { table, key in
                if let item = object[key] { table.set(key, toml(item)) }
            }), line: 0)
        case .null: TOMLValue(.string(""), line: 0)
        }
    }
}
