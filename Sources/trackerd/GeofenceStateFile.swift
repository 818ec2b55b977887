import FoundationEssentials
import Logging
import TrackerCore
import TrackerStorage

/// `[store] dir/geofence.json`: the zones' states across restarts, so a reboot sends no
/// duplicate notification. Written atomically after each change; an unreadable file is reported
/// and the zones start afresh.
struct GeofenceStateFile: Sendable {
    let path: String

    func load(logger: Logger) -> GeofenceSnapshot? {
        do {
            guard let bytes = try CredentialStore.read(path) else { return nil }
            return try JSONDecoder().decode(GeofenceSnapshot.self, from: Data(bytes))
        } catch {
            logger.error("geofence states in \(path) are unreadable (\(error)); the zones start afresh")
            return nil
        }
    }

    func save(_ snapshot: GeofenceSnapshot, logger: Logger) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try CredentialStore.write(Array(try encoder.encode(snapshot)), to: path, mode: 0o644)
        } catch {
            logger.warning("cannot save the geofence states to \(path): \(error)")
        }
    }
}
