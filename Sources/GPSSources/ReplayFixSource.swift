import Logging
import TrackerCore
import TrackerSystem

/// Fixes from a recorded NMEA file, paced by the fixes' own times: `speed` 1 is real time,
/// 10 ten times faster, 0 as fast as they decode. Cycles without a time are paced one second
/// apart. The source ends at the end of the file. The daemon's loop serves it itself
/// (`ReplayFixReader`): one wake-up per cycle, as a receiver's would be.
public struct ReplayFixSource: LoopServedFixSource {
    public let path: String
    public let speed: Double
    private let logger: Logger

    public init(path: String, speed: Double, logger: Logger) {
        self.path = path
        self.speed = speed
        self.logger = logger
    }

    public var description: String { "replay of \(path) at \(JSONNumber.fixed(speed, 2))x" }

    public func makeReader() -> any FixReader {
        ReplayFixReader(path: path, speed: speed, logger: logger)
    }

    public func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        FixReaderThread.start(self, thread: "trackerd-replay", logger: logger, delivering: deliver)
    }
}
