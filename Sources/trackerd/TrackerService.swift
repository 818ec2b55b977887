#if canImport(Glibc)
import Glibc
#endif
import AsyncAlgorithms
import Logging
import ServiceLifecycle
import TrackerCore
import TrackerMQTT
import TrackerStorage
import TrackerSystem

/// The daemon's one loop: fixes from the source, the clock, and the MQTT connection's events,
/// handled one at a time. It tells the operator what matters (first fix, fix lost, fix
/// regained at info; every fix at debug) and hands publishable fixes to the publisher.
/// A finished replay ends the loop once the queue has drained.
struct TrackerService: Service, CustomStringConvertible {
    let source: any FixSource
    let config: TrackerConfig
    let deviceID: String
    /// The thing name when the device is fleet-provisioned.
    var thingName: String?
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
        let zones: [Zone]
        do { zones = try GeofenceFiles.zones(config.geofences) } catch {
            logger.error("configuration: \(error)")
            throw ExitStatus.configuration
        }
        let zoneStates = GeofenceStateFile(path: config.store.directory + "/geofence.json")
        if !zones.isEmpty {
            do { try CredentialStore.ensureDirectory(config.store.directory) } catch {
                logger.warning("geofence states cannot be kept: \(error)")
            }
        }
        let restored = zones.isEmpty ? nil : zoneStates.load(logger: logger)
        let thing = config.mqtt.clientID ?? deviceID
        var planner = PublicationPlanner(config: config, deviceID: deviceID, thingName: thing,
                                         detector: GeofenceDetector(zones: zones, restored: restored?.zones ?? [:], lastTime: restored?.lastTime))
        if !zones.isEmpty {
            logger.info("geofences: \(zones.map(\.name).joined(separator: ", "))")
        }
        var detector = FixLossDetector(staleAfter: staleAfter)
        var lostAt: ContinuousClock.Instant?
        var sourceEnded = false
        let clock = ContinuousClock()
        let fixes = chain(source.fixes().map { Input.fix($0) }, [Input.sourceEnded].async)
        let ticks = AsyncTimerSequence(interval: .milliseconds(500), clock: clock).map { _ in Input.tick }
        let mqtt = (publisher?.connection.events ?? AsyncStream { $0.finish() }).map { Input.mqtt($0) }
        let notifier = SystemdNotifier()
        let statusFile = StatusFile(directory: StatusFile.runtimeDirectory)
        var lastStatus = ""
        var lastStatusAt: ContinuousClock.Instant?
        var lastWatchdog = clock.now
        var lastFix: (Fix, ContinuousClock.Instant)?
        logger.info("waiting for the first fix from \(source.description)")
        if publisher == nil { logger.info("no [mqtt] endpoint configured: fixes are logged, not published") }
        publisher?.start()
        // Running: configuration valid, credentials in place, source and connection started.
        notifier.notify("READY=1\nSTATUS=running; waiting for the first fix from \(source.description)")

        for await input in merge(fixes, ticks, mqtt).cancelOnGracefulShutdown() {
            let now = clock.now
            let events: [FixLossDetector.Event]
            switch input {
            case .fix(let fix): events = detector.receive(fix, at: now)
            case .tick:
                events = detector.tick(now)
                publisher?.tick(now: now)
                if let interval = notifier.watchdogInterval, now - lastWatchdog >= interval {
                    notifier.notify("WATCHDOG=1")
                    lastWatchdog = now
                }
                if lastStatusAt.map({ now - $0 >= .seconds(2) }) ?? true {
                    lastStatusAt = now
                    statusFile.write(statusJSON(publisher: publisher, lastFix: lastFix, zones: planner.detector, now: now))
                    if notifier.socketPath != nil {
                        let status = systemdStatus(publisher: publisher, lastFix: lastFix, now: now)
                        if status != lastStatus { notifier.notify("STATUS=" + status) }
                        lastStatus = status
                    }
                }
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
                    lastFix = (fix, now)
                    if first {
                        logger.info("first fix: \(fix.summary)")
                    } else if regained {
                        let gap = lostAt.map { " after \(JSONNumber.fixed(($0.duration(to: now) + staleAfter).seconds, 1)) s" } ?? ""
                        logger.info("fix regained\(gap): \(fix.summary)", metadata: ["event": "fix-regained"])
                    }
                    let messages = planner.plan(fix, afterLoss: regained)
                    publisher?.enqueue(messages, now: now)
                    logger.debug("fix: \(fix.summary)")
                    let events = messages.compactMap(\.event)
                    for event in events {
                        let was = event.previous.map { " (was \($0.rawValue))" } ?? ""
                        let at = "\(JSONNumber.fixed(event.position.latitude, 6)),\(JSONNumber.fixed(event.position.longitude, 6))"
                        logger.notice("geofence \(event.zone): \(event.kind.rawValue) \(event.state.rawValue)\(was) at \(at) \(event.time.iso8601)",
                                      metadata: ["event": "geofence", "zone": "\(event.zone)", "geofence_event": "\(event.kind.rawValue)",
                                                 "state": "\(event.state.rawValue)"])
                    }
                    if !events.isEmpty { zoneStates.save(planner.detector, logger: logger) }
                    if first || regained || !events.isEmpty {
                        // Worth showing at once, not at the next 2-second rewrite.
                        statusFile.write(statusJSON(publisher: publisher, lastFix: lastFix, zones: planner.detector, now: now))
                    }
                case .lost(let last, let receiverReportsNoFix):
                    lostAt = now
                    let why = receiverReportsNoFix ? "the receiver reports no fix" : "nothing from the receiver"
                    logger.warning("fix lost: no new fix for \(JSONNumber.fixed(staleAfter.seconds, 1)) s (\(why)); last: \(last.summary)",
                                   metadata: ["event": "fix-lost"])
                case .repeated(let fix):
                    logger.debug("repeated fix ignored: \(fix.summary)")
                }
            }
            if sourceEnded && (publisher?.isDrained ?? true) {
                if publisher != nil { logger.info("every queued message is acknowledged") }
                break
            }
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping")
        statusFile.remove()
        await publisher?.shutdown()
    }

    /// The line `systemctl status` shows.
    private func systemdStatus(publisher: FixPublisher?, lastFix: (Fix, ContinuousClock.Instant)?,
                               now: ContinuousClock.Instant) -> String {
        let connection = publisher?.status ?? "not publishing (no [mqtt] endpoint)"
        guard let (fix, at) = lastFix else { return connection + "; no fix yet" }
        let age = Int(at.duration(to: now).seconds.rounded())
        return connection + "; last fix \(age) s ago (\(fix.mode)\(fix.satellitesUsed.map { ", \($0) sats" } ?? ""))"
    }

    /// What `trackerd status` shows.
    private func statusJSON(publisher: FixPublisher?, lastFix: (Fix, ContinuousClock.Instant)?, zones: GeofenceDetector,
                            now: ContinuousClock.Instant) -> String {
        var text = "{\"pid\":\(getpid()),\"deviceId\":\(FixPayload.jsonString(deviceID)),"
        text += "\"thing\":" + (thingName.map(FixPayload.jsonString) ?? "null")
        text += ",\"provisioned\":\(thingName != nil)"
        text += ",\"source\":\(FixPayload.jsonString(source.description))"
        text += ",\"mqtt\":" + (publisher?.statusJSON(now: now) ?? "null")
        if let (fix, at) = lastFix {
            text += ",\"lastFix\":{\"ageSeconds\":\(JSONNumber.fixed(at.duration(to: now).seconds, 1)),\"fix\":\(FixJSON.encode(fix))}"
        } else {
            text += ",\"lastFix\":null"
        }
        let states = zones.zones.map { zone in
            "\(FixPayload.jsonString(zone.name)):" + (zones.state(of: zone.name).map { "\"\($0.rawValue)\"" } ?? "null")
        }
        return text + ",\"zones\":{" + states.joined(separator: ",") + "}}"
    }
}
