import AsyncAlgorithms
import Logging
import ServiceLifecycle
import TrackerCore
import TrackerMQTT

/// The daemon's one loop: fixes from the source, the clock, and the MQTT connection's events,
/// handled one at a time. It tells the operator what matters (first fix, fix lost, fix
/// regained at info; every fix at debug) and hands publishable fixes to the publisher.
/// A finished replay ends the loop once the queue has drained.
struct TrackerService: Service, CustomStringConvertible {
    let source: any FixSource
    let config: TrackerConfig
    let deviceID: String
    let logger: Logger

    var description: String { "trackerd loop over \(source.description)" }

    private enum Input: Sendable {
        case fix(Fix)
        case tick
        case sourceEnded
        case mqtt(MQTTEvent)
    }

    func run() async throws {
        let staleAfter = config.gps.staleAfter
        var publisher: FixPublisher?
        if config.mqtt.endpoint != nil {
            do {
                publisher = try FixPublisher(config: config, deviceID: deviceID, logger: logger, now: ContinuousClock.now)
            } catch {
                logger.error("MQTT: \(error)")
                throw ExitStatus.configuration
            }
        }
        var detector = FixLossDetector(staleAfter: staleAfter)
        var lostAt: ContinuousClock.Instant?
        var sourceEnded = false
        let clock = ContinuousClock()
        let fixes = chain(source.fixes().map { Input.fix($0) }, [Input.sourceEnded].async)
        let ticks = AsyncTimerSequence(interval: .milliseconds(500), clock: clock).map { _ in Input.tick }
        let mqtt = (publisher?.connection.events ?? AsyncStream { $0.finish() }).map { Input.mqtt($0) }
        logger.info("waiting for the first fix from \(source.description)")
        if publisher == nil { logger.info("no [mqtt] endpoint configured: fixes are logged, not published") }
        publisher?.start()

        for await input in merge(fixes, ticks, mqtt).cancelOnGracefulShutdown() {
            let now = clock.now
            let events: [FixLossDetector.Event]
            switch input {
            case .fix(let fix): events = detector.receive(fix, at: now)
            case .tick:
                events = detector.tick(now)
                publisher?.tick(now: now)
            case .mqtt(let event):
                publisher?.handle(event)
                events = []
            case .sourceEnded:
                logger.info("fix source ended: \(source.description)")
                sourceEnded = true
                events = []
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
                    publisher?.offer(fix, regained: regained, now: now)
                    logger.debug("fix: \(fix.summary)")
                case .lost(let last, let receiverReportsNoFix):
                    lostAt = now
                    let why = receiverReportsNoFix ? "the receiver reports no fix" : "nothing from the receiver"
                    logger.warning("fix lost: no new fix for \(JSONNumber.fixed(staleAfter.seconds, 1)) s (\(why)); last: \(last.summary)")
                case .repeated(let fix):
                    logger.debug("repeated fix ignored: \(fix.summary)")
                }
            }
            if sourceEnded && (publisher?.isDrained ?? true) {
                if publisher != nil { logger.info("every queued message is acknowledged") }
                break
            }
        }
        await publisher?.shutdown()
    }
}
