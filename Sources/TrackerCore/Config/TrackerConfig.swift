/// trackerd's configuration, read from TOML and validated as a whole.
public struct TrackerConfig: Sendable, Equatable {
    public static let defaultPath = "/etc/trackerd/trackerd.toml"

    public var device = DeviceConfig()
    public var gps = GPSConfig()
    public var mqtt = MQTTConfig()
    public var payload = PayloadConfig()
    public var queue = QueuePolicy()
    public var store = StoreConfig()
    public var jobs = JobsConfig()
    public var credentials = CredentialsConfig()
    /// nil: no `[provisioning]` section, the device uses the static `[mqtt]` credentials.
    public var provisioning: ProvisioningConfig?
    public var geofences: [GeofenceConfig] = []
    public var report = ReportPolicy()
    /// Settings that work but should be written differently (deprecated keys), with their lines.
    public var warnings: [ConfigError] = []
    /// The remote-capable keys the file sets (`report.stop_speed_mps`, `mqtt.events_topic`,
    /// `geofences`), so a value shown can say whether it came from the file or is a default.
    public var fileKeys: Set<String> = []

    public init() {}

    static let sections = ["device", "gps", "mqtt", "payload", "queue", "store", "provisioning", "geofence", "report", "jobs",
                           "credentials"]

    /// Every key this version understands, as `section.key`: the example file must document each.
    public static var knownKeys: [String] {
        DeviceConfig.keys.map { "device.\($0)" } + GPSConfig.keys.map { "gps.\($0)" }
            + MQTTConfig.keys.map { "mqtt.\($0)" } + PayloadConfig.keys.map { "payload.\($0)" }
            + QueuePolicy.keys.map { "queue.\($0)" } + StoreConfig.keys.map { "store.\($0)" }
            + ProvisioningConfig.keys.map { "provisioning.\($0)" } + GeofenceConfig.keys.map { "geofence.\($0)" }
            + ReportPolicy.keys.map { "report.\($0)" } + JobsConfig.keys.map { "jobs.\($0)" }
            + CredentialsConfig.keys.map { "credentials.\($0)" }
    }

    /// Reads `text`, the contents of `file`. Throws every problem found, each with its line.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> TrackerConfig {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// The contents of `file` as read from disk (not valid UTF-8: an error with its line).
    public static func parse(bytes: [UInt8], file: String) throws(ConfigErrors) -> TrackerConfig {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(bytes: bytes)
        } catch {
            throw ConfigErrors([ConfigError(file: file, line: error.line, key: nil, message: error.message)])
        }
        let reader = ConfigReader(file: file)
        var config = TrackerConfig()
        config.device = DeviceConfig(reader.section(root, "device"), reader)
        config.gps = GPSConfig(reader.section(root, "gps"), reader)
        config.report = ReportPolicy(reader.section(root, "report"), gps: reader.section(root, "gps"), reader)
        config.mqtt = MQTTConfig(reader.section(root, "mqtt"), reader)
        config.payload = PayloadConfig(reader.section(root, "payload"), reader)
        config.queue = QueuePolicy(reader.section(root, "queue"), reader)
        config.store = StoreConfig(reader.section(root, "store"), reader)
        config.jobs = JobsConfig(reader.section(root, "jobs"), reader)
        if root["provisioning"] != nil {
            config.provisioning = ProvisioningConfig(reader.section(root, "provisioning"), reader)
        }
        config.credentials = CredentialsConfig(reader.section(root, "credentials"), reader)
        CredentialsConfig.check(config, keyLine: reader.section(root, "credentials")["key"]?.line,
                                claimLine: reader.section(root, "provisioning")["claim_key"]?.line, reader)
        if let value = root["geofence"] {
            if case .array(let entries) = value.kind {
                var seen: [String: Int] = [:]
                for (index, entry) in entries.enumerated() {
                    guard case .table(let table) = entry.kind else {
                        reader.fail(entry.line, "geofence", "must be [[geofence]] tables"); continue
                    }
                    let zone = GeofenceConfig.read(table, index: index, reader)
                    if let name = table["name"], case .string(let text) = name.kind {
                        if let first = seen[text] {
                            reader.fail(name.line, "geofence[\(index)].name", "\"\(text)\" is already the name of the zone on line \(first)")
                            continue
                        }
                        seen[text] = table.line
                    }
                    if let zone { config.geofences.append(zone) }
                }
            } else {
                reader.fail(value.line, "geofence", "must be written as [[geofence]] tables")
            }
        }
        reader.unknownKeys(in: root, section: nil, known: sections)
        for key in reader.section(root, "report").keys { config.fileKeys.insert("report." + key) }
        let gps = reader.section(root, "gps")
        if gps["min_interval_s"] != nil || gps["min_distance_m"] != nil {
            config.fileKeys.formUnion(["report.policy", "report.moving_interval_s", "report.min_distance_m"])
        }
        for key in reader.section(root, "mqtt").keys { config.fileKeys.insert("mqtt." + key) }
        if !config.geofences.isEmpty { config.fileKeys.insert("geofences") }
        if !reader.errors.isEmpty { throw ConfigErrors(reader.errors.sorted { $0.line < $1.line }) }
        config.warnings = reader.warnings
        return config
    }
}
