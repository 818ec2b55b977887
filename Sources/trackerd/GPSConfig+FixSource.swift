import GPSSources
import Logging
import TrackerCore

extension GPSConfig {
    /// The source this section describes.
    func makeFixSource(logger: Logger, board: BoardProfile? = nil) -> any FixSource {
        switch source {
        case .gpsd: GPSDFixSource(host: gpsdHost, port: gpsdPort, logger: logger)
        case .serial:
            SerialFixSource(path: device, baud: baud, logger: logger, initCommands: board?.portCommands ?? [],
                            atCommands: board.flatMap { b in b.atPort.map { ($0, b.at) } })
        case .replay: ReplayFixSource(path: replayFile ?? "", speed: replaySpeed, logger: logger)
        }
    }
}
