/// One remote-capable setting as it is in force, and where its value came from: what
/// `trackerd status` and `trackerd check-config --remote` show, so an operator who finds a
/// tracker behaving unlike its file can see that the shadow changed it.
public struct EffectiveSetting: Codable, Sendable, Equatable {
    public enum Origin: String, Codable, Sendable {
        /// The `trackerd` shadow's desired state, as last applied.
        case remote
        /// An `update-geofences` job's zone set.
        case job
        /// /etc/trackerd/trackerd.toml.
        case file
        /// `trackerd run --log-level`.
        case commandLine = "command-line"
        /// Neither sets it.
        case `default`
    }

    /// `report.moving_interval_s`, `geofences`, `log_level`, `mqtt.events_topic`
    public var key: String
    /// As the file would write it (`30.0`, `"adaptive"`, zone names for `geofences`).
    public var value: String
    public var origin: Origin

    public init(key: String, value: String, origin: Origin) {
        self.key = key
        self.value = value
        self.origin = origin
    }

    /// Every remote-capable setting of `file` with `remote` over it; `logLevel`: the level the
    /// command line asked for.
    /// `jobZones`: the names of a job's zone set in force, if any.
    public static func list(file: TrackerConfig, remote: RemoteSettings, logLevel: String, jobZones: [String]? = nil) -> [EffectiveSetting] {
        let config = remote.applied(to: file)
        func origin(_ key: String, remote isRemote: Bool) -> Origin {
            isRemote ? .remote : file.fileKeys.contains(key) ? .file : .default
        }
        var out: [EffectiveSetting] = []
        let report = config.report
        let values: [(String, String)] = [
            ("policy", "\"\(report.mode.rawValue)\""), ("moving_interval_s", seconds(report.movingInterval)),
            ("min_distance_m", number(report.minDistance)), ("heading_change_deg", number(report.headingChange)),
            ("stop_speed_mps", number(report.stopSpeed)), ("stop_after_s", seconds(report.stopAfter)),
            ("stopped_interval_s", seconds(report.stoppedInterval)), ("overspeed_mps", number(report.overspeed)),
            ("overspeed_after_s", seconds(report.overspeedAfter)),
        ]
        for (key, value) in values {
            out.append(EffectiveSetting(key: "report." + key, value: value, origin: origin("report." + key, remote: remote.report?[key] != nil)))
        }
        func names(_ list: [String]) -> String {
            list.isEmpty ? "none" : list.count > 20 ? "\(list.count) zones: " + list.prefix(20).joined(separator: ", ") + ", …" : list.joined(separator: ", ")
        }
        if remote.geofences == nil, let jobZones {
            out.append(EffectiveSetting(key: "geofences", value: names(jobZones), origin: .job))
        } else {
            out.append(EffectiveSetting(key: "geofences", value: names(config.geofences.map(\.name)),
                                        origin: origin("geofences", remote: remote.geofences != nil)))
        }
        out.append(EffectiveSetting(key: "log_level", value: "\"\(remote.logLevel ?? logLevel)\"",
                                    origin: remote.logLevel != nil ? .remote : .commandLine))
        for (key, value, set) in [("status_topic", config.mqtt.statusTopic, remote.statusTopic != nil),
                                  ("events_topic", config.mqtt.eventsTopic, remote.eventsTopic != nil),
                                  ("alerts_topic", config.mqtt.alertsTopic, remote.alertsTopic != nil)] {
            out.append(EffectiveSetting(key: "mqtt." + key, value: "\"\(value)\"", origin: origin("mqtt." + key, remote: set)))
        }
        return out
    }

    private static func seconds(_ duration: Duration) -> String { number(duration.seconds) }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? JSONNumber.fixed(value, 1) : "\(value)"
    }
}
