import FoundationEssentials
import Logging
import TrackerCore
import TrackerStorage

/// The zones' states across restarts (`[store] dir/geofence.json`), so a reboot sends no
/// duplicate notification. Written atomically after each change; an unreadable file is reported
/// and the zones start afresh.
struct GeofenceStateFile: Sendable {
    struct Contents: Codable {
        var lastTime: UTCTimestamp?
        var zones: [String: GeofenceDetector.SavedState]
    }

    let path: String

    func load(logger: Logger) -> Contents? {
        do {
            guard let bytes = try CredentialStore.read(path) else { return nil }
            return try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            logger.error("geofence states in \(path) are unreadable (\(error)); the zones start afresh")
            return nil
        }
    }

    func save(_ detector: GeofenceDetector, logger: Logger) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let bytes = try encoder.encode(Contents(lastTime: detector.lastTime, zones: detector.saved))
            try CredentialStore.write(Array(bytes), to: path, mode: 0o644)
        } catch {
            logger.warning("cannot save the geofence states to \(path): \(error)")
        }
    }
}
