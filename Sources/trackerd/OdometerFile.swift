import FoundationEssentials
import Logging
import TrackerStorage

/// `[store] dir/odometer.json`: the metres travelled, all time, across restarts. Written
/// atomically at each trip's end, at a stop and every 5 minutes while moving; an unreadable file
/// is reported and the odometer starts at 0.
struct OdometerFile: Sendable {
    struct Contents: Codable {
        var metres: Double
    }

    let path: String

    func load(logger: Logger) -> Double {
        do {
            guard let bytes = try CredentialStore.read(path) else { return 0 }
            return try JSONDecoder().decode(Contents.self, from: Data(bytes)).metres
        } catch {
            logger.error("the odometer in \(path) is unreadable (\(error)); it starts again at 0")
            return 0
        }
    }

    func save(_ metres: Double, logger: Logger) {
        do {
            // The state directory is made on the first save: a tracker that never moves makes none.
            try CredentialStore.ensureDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
            try CredentialStore.write(Array(try JSONEncoder().encode(Contents(metres: metres))), to: path, mode: 0o644)
        } catch {
            logger.warning("cannot save the odometer to \(path): \(error)")
        }
    }
}
