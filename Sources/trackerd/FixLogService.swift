import AsyncAlgorithms
import Logging
import ServiceLifecycle
import TrackerCore

/// Reads the fix source and tells the operator what matters: the first fix, a lost fix, a
/// regained fix (info); every fix at debug. Ends when the source ends (a finished replay).
struct FixLogService: Service, CustomStringConvertible {
    let source: any FixSource
    let staleAfter: Duration
    let logger: Logger

    var description: String { "fix log of \(source.description)" }

    private enum Input {
        case fix(Fix)
        case tick
        case sourceEnded
    }

    func run() async throws {
        var detector = FixLossDetector(staleAfter: staleAfter)
        var lostAt: ContinuousClock.Instant?
        let clock = ContinuousClock()
        let fixes = chain(source.fixes().map { Input.fix($0) }, [Input.sourceEnded].async)
        let ticks = AsyncTimerSequence(interval: .milliseconds(250), clock: clock).map { _ in Input.tick }
        logger.info("waiting for the first fix from \(source.description)")

        for await input in merge(fixes, ticks).cancelOnGracefulShutdown() {
            let now = clock.now
            let events: [FixLossDetector.Event]
            switch input {
            case .fix(let fix): events = detector.receive(fix, at: now)
            case .tick: events = detector.tick(now)
            case .sourceEnded:
                logger.info("fix source ended: \(source.description)")
                return
            }
            for event in events {
                switch event {
                case .fix(let fix, let first, let regained):
                    if first {
                        logger.info("first fix: \(fix.summary)")
                    } else if regained {
                        let gap = lostAt.map { " after \(JSONNumber.fixed(($0.duration(to: now) + staleAfter).seconds, 1)) s" } ?? ""
                        logger.info("fix regained\(gap): \(fix.summary)")
                    }
                    logger.debug("fix: \(fix.summary)")
                case .lost(let last, let receiverReportsNoFix):
                    lostAt = now
                    let why = receiverReportsNoFix ? "the receiver reports no fix" : "nothing from the receiver"
                    logger.warning("fix lost: no new fix for \(JSONNumber.fixed(staleAfter.seconds, 1)) s (\(why)); last: \(last.summary)")
                case .repeated(let fix):
                    logger.debug("repeated fix ignored: \(fix.summary)")
                }
            }
        }
    }
}
