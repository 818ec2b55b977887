import Logging
import TrackerCore
import TrackerSystem

/// Fixes from a recorded NMEA file, paced by the fixes' own times: `speed` 1 is real time,
/// 10 ten times faster, 0 as fast as they decode. Cycles without a time are paced one second
/// apart. The stream finishes at the end of the file.
public struct ReplayFixSource: FixSource {
    public let path: String
    public let speed: Double
    private let logger: Logger

    public init(path: String, speed: Double, logger: Logger) {
        self.path = path
        self.speed = speed
        self.logger = logger
    }

    public var description: String { "replay of \(path) at \(JSONNumber.fixed(speed, 2))x" }

    /// Plays the file on a thread of its own, sleeping until each cycle is due (one wake-up
    /// per cycle, as a receiver's would be).
    public func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        let source = self
        return ReaderThread.deliver(for: description, thread: "trackerd-replay", logger: logger,
                                    { source.play(stop: $0, emit: $1) }, to: deliver)
    }

    private func play(stop: StopFlag, emit: (Fix) -> Void) {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(path)
        } catch {
            logger.error("replay: \(error)")
            return
        }
        let (fixes, statistics) = NMEADecoder.decode(bytes)
        logger.info("replaying \(fixes.count) cycles from \(path)", metadata: ["nmea": "\(statistics.summary)"])
        let clock = ContinuousClock()
        let start = clock.now
        var offset = Duration.zero
        var previous: UTCTimestamp?
        for fix in fixes {
            if speed > 0 {
                let step: Duration
                if let time = fix.time, let before = previous, time > before {
                    step = .milliseconds(time.millisecondsSinceEpoch - before.millisecondsSinceEpoch)
                } else {
                    step = previous == nil && offset == .zero ? .zero : .seconds(1)
                }
                offset += step / speed
                let wait = start + offset - clock.now
                if wait > .zero, !stop.sleep(wait) { return }
            }
            if stop.isSet { return }
            if let time = fix.time { previous = time }
            emit(fix)
        }
        logger.info("replay finished: end of \(path)")
    }
}
