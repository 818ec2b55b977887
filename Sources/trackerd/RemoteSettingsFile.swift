import Logging
import TrackerCore
import TrackerStorage

/// The shadow settings a tracker last applied, kept in `[store] dir/remote-settings.json`: read
/// at start, before the MQTT connection is made (the last will names the presence topic in
/// force), so a tracker that boots offline runs on what it was last told; and by
/// `check-config --remote`, the same way.
struct RemoteSettingsFile: Sendable {
    let state: JSONStateFile<RemoteSettingsRecord>

    init(storeDirectory: String) {
        state = JSONStateFile(path: storeDirectory + "/remote-settings.json", name: "the applied shadow settings")
    }

    enum Failure: Error {
        /// The file cannot be read (permissions), or is not a settings record.
        case unreadable(String)
        /// This version no longer accepts what it holds.
        case invalid([RemoteSettings.Problem])
    }

    /// The settings and their shadow version; nil when nothing was applied yet.
    func read() throws(Failure) -> (settings: RemoteSettings, version: Int)? {
        let record: RemoteSettingsRecord
        do {
            guard let bytes = try CredentialStore.read(state.path) else { return nil }
            record = try JSONCodec.decode(RemoteSettingsRecord.self, from: bytes)
        } catch {
            throw .unreadable("\(error)")
        }
        switch RemoteSettings.validate(record.desired) {
        case .success(let settings): return (settings, record.version)
        case .failure(let invalid): throw .invalid(invalid.problems)
        }
    }

    /// The settings and their shadow version; none when there is no file, or when it cannot be
    /// used (said once, and the file's settings are used).
    func restore(logger: Logger) -> (RemoteSettings, version: Int) {
        do {
            guard let (settings, version) = try read() else { return (RemoteSettings(), 0) }
            if !settings.document.isEmpty {
                logger.info("shadow settings of version \(version) in force until the shadow answers: \(settings.document.keys.sorted().joined(separator: ", "))")
            }
            return (settings, version)
        } catch {
            switch error {
            case .unreadable(let reason):
                logger.error("\(state.name) in \(state.path) are unreadable (\(reason)); they start afresh")
            case .invalid(let problems):
                let list = problems.map { "\($0.path): \($0.problem)" }.joined(separator: "; ")
                logger.error("the shadow settings in \(state.path) are not valid (\(list)); the file's settings are used until the shadow answers")
            }
        }
        return (RemoteSettings(), 0)
    }
}
