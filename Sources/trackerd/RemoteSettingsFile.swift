import Logging
import TrackerCore

/// The shadow settings a tracker last applied, kept in `[store] dir/remote-settings.json`: read
/// at start, before the MQTT connection is made (the last will names the presence topic in
/// force), so a tracker that boots offline runs on what it was last told.
struct RemoteSettingsFile: Sendable {
    let state: JSONStateFile<RemoteSettingsRecord>

    init(storeDirectory: String) {
        state = JSONStateFile(path: storeDirectory + "/remote-settings.json", name: "the applied shadow settings")
    }

    /// The settings and their shadow version; none when there is no file, or when this version
    /// no longer accepts what it holds (said once, and the file's settings are used).
    func restore(logger: Logger) -> (RemoteSettings, version: Int) {
        guard let record = state.load(logger: logger) else { return (RemoteSettings(), 0) }
        switch RemoteSettings.validate(record.desired) {
        case .success(let settings):
            if !settings.document.isEmpty {
                logger.info("shadow settings of version \(record.version) in force until the shadow answers: \(settings.document.keys.sorted().joined(separator: ", "))")
            }
            return (settings, record.version)
        case .failure(let invalid):
            let list = invalid.problems.map { "\($0.path): \($0.problem)" }.joined(separator: "; ")
            logger.error("the shadow settings in \(state.path) are not valid (\(list)); the file's settings are used until the shadow answers")
            return (RemoteSettings(), 0)
        }
    }
}
