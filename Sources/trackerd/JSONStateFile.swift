import Logging
import TrackerCore
import TrackerStorage

/// A small piece of state kept across restarts in `[store] dir` as JSON — the zones' states
/// (`geofence.json`, so a reboot sends no duplicate notification) and the odometer
/// (`odometer.json`). Written atomically; the directory is made on the first save (a tracker
/// that never needs one makes none). An unreadable file is reported and the state starts afresh.
struct JSONStateFile<Contents: Codable & Sendable>: Sendable {
    let path: String
    /// What the file holds, for the log ("the geofence states").
    let name: String

    func load(logger: Logger) -> Contents? {
        do {
            guard let bytes = try CredentialStore.read(path) else { return nil }
            return try JSONCodec.decode(Contents.self, from: bytes)
        } catch {
            logger.error("\(name) in \(path) are unreadable (\(error)); they start afresh")
            return nil
        }
    }

    func save(_ contents: Contents, logger: Logger) {
        do {
            try CredentialStore.ensureDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
            try CredentialStore.write(try JSONCodec.encode(contents), to: path, mode: 0o644)
        } catch {
            logger.warning("cannot save \(name) to \(path): \(error)")
        }
    }
}

/// The odometer as `odometer.json` holds it.
struct OdometerReading: Codable, Sendable {
    var metres: Double
}
