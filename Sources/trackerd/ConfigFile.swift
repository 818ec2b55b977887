import Logging
import TrackerCore
import TrackerSystem

/// Loads the configuration file named on the command line, or the default one.
enum ConfigFile {
    enum LoadError: Error, CustomStringConvertible {
        case unreadable(FileReader.ReadError)
        case invalid(ConfigErrors)

        var description: String {
            switch self {
            case .unreadable(let error): "\(error)"
            case .invalid(let errors): "\(errors)"
            }
        }
    }

    /// `path == nil` means the default file; a device without one runs on the defaults (a
    /// freshly flashed tracker must still come up and say so), while a file named explicitly
    /// must exist.
    static func load(_ path: String?) throws(LoadError) -> (TrackerConfig, source: String) {
        let file = path ?? TrackerConfig.defaultPath
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(file)
        } catch {
            if path == nil && error.isMissing { return (TrackerConfig(), "built-in defaults (\(file) does not exist)") }
            throw .unreadable(error)
        }
        do {
            return (try TrackerConfig.parse(bytes: bytes, file: file), file)
        } catch {
            throw .invalid(error)
        }
    }

    /// What every long-running command does first: logging to stderr (journal-aware) at
    /// `level`, then the configuration, whose errors are logged one per line before exit 78.
    static func start(_ path: String?, logLevel: String) throws -> (TrackerConfig, origin: String, Logger) {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: level) }
        let logger = Logger(label: "trackerd")
        do {
            let (settings, origin) = try load(path)
            for warning in settings.warnings { logger.warning("configuration: \(warning)") }
            return (settings, origin, logger)
        } catch {
            for line in "\(error)".split(separator: "\n") { logger.error("configuration: \(line)") }
            throw ExitStatus.configuration
        }
    }

    /// For the one-shot commands: the configuration, or its errors on stderr and exit 78.
    static func loadOrExit(_ path: String?) throws -> TrackerConfig {
        do {
            return try load(path).0
        } catch {
            StandardError.line("\(error)")
            throw ExitStatus.configuration
        }
    }
}
