import Logging
import TrackerCore
import TrackerSystem

/// `ReplayFixSource`'s reader: the file is decoded at the first `serve`, and each cycle is
/// handed out once its time has come (the cycles' own times divided by `speed`; cycles without
/// a time one second apart; all at once at speed 0, a batch per serve).
final class ReplayFixReader: FixReader {
    private let path: String
    private let speed: Double
    private let logger: Logger
    private var fixes: [Fix] = []
    private var next = 0
    private var opened = false
    private var finished = false
    private var start = MonotonicInstant.now
    private var offset = Duration.zero
    private var previous: UTCTimestamp?
    /// When `fixes[next]` is due, once worked out.
    private var nextDue: MonotonicInstant?

    /// At most this many cycles a serve: a replay at full speed leaves the loop its other work.
    private static let batch = 256

    init(path: String, speed: Double, logger: Logger) {
        self.path = path
        self.speed = speed
        self.logger = logger
    }

    var descriptor: Int32 { -1 }

    var serveBy: MonotonicInstant? {
        if finished { return nil }
        guard opened else { return start }
        return due()
    }

    func serve(now: MonotonicInstant) -> (fixes: [Fix], ended: Bool) {
        if finished { return ([], true) }
        if !opened {
            opened = true
            do {
                let (decoded, statistics) = NMEADecoder.decode(try FileReader.readAll(path))
                fixes = decoded
                logger.info("replaying \(fixes.count) cycles from \(path)", metadata: ["nmea": "\(statistics.summary)"])
            } catch {
                logger.error("replay: \(error)")
                finished = true
                return ([], true)
            }
            start = now
        }
        var out: [Fix] = []
        while next < fixes.count && out.count < Self.batch {
            if speed > 0 && now < due() { break }
            let fix = fixes[next]
            if let time = fix.time { previous = time }
            out.append(fix)
            next += 1
            nextDue = nil
        }
        if next == fixes.count {
            finished = true
            logger.info("replay finished: end of \(path)")
        }
        return (out, finished)
    }

    func close() {}

    /// When the next cycle is due: the step from the cycle before it, at `speed`.
    private func due() -> MonotonicInstant {
        if let nextDue { return nextDue }
        guard speed > 0, next < fixes.count else { return start }
        let step: Duration
        if let time = fixes[next].time, let before = previous, time > before {
            step = .milliseconds(time.millisecondsSinceEpoch - before.millisecondsSinceEpoch)
        } else {
            step = previous == nil && offset == .zero ? .zero : .seconds(1)
        }
        offset += step / speed
        let due = start + offset
        nextDue = due
        return due
    }
}
