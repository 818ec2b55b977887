#if canImport(Glibc)
import Glibc
#endif
import Logging
import TrackerCore
import TrackerSystem

/// Finds board profiles: `$TRACKERD_BOARDS_DIR`, then /usr/share/trackerd/boards (the Debian
/// package's), then ./boards (a checkout).
enum BoardProfiles {
    static var directories: [String] {
        var out: [String] = []
        if let dir = getenv("TRACKERD_BOARDS_DIR") { out.append(String(cString: dir)) }
        return out + ["/usr/share/trackerd/boards", "boards"]
    }

    static func load(_ name: String, logger: Logger) throws -> BoardProfile {
        for directory in directories {
            let path = directory + "/" + name + ".toml"
            guard let bytes = try? FileReader.readAll(path) else { continue }
            do {
                return try BoardProfile(toml: bytes, file: path)
            } catch {
                logger.error("board profile: \(error)")
                throw ExitStatus.configuration
            }
        }
        logger.error("configuration: no board profile \"\(name)\" in \(directories.joined(separator: ", "))")
        throw ExitStatus.configuration
    }
}
