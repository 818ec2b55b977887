#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AsyncAlgorithms
import Logging
import ServiceLifecycle
import TrackerCore
import TrackerMQTT
import TrackerSystem

/// The daemon's one loop: fixes from the source, the clock, and the MQTT connection's events,
/// handed one at a time to the engine, whose actions `EngineDriver` carries out. A finished
/// replay ends the loop once the queue has drained; a graceful shutdown keeps the queue.
struct TrackerService: Service, CustomStringConvertible {
    let source: any FixSource
    let config: TrackerConfig
    let deviceID: String
    /// The thing name when the device is fleet-provisioned.
    var thingName: String?
    let zones: [Zone]
    /// nil without an [mqtt] endpoint.
    let connection: MQTTConnection?
    /// `--log-level`: in force while the shadow sets none.
    let logLevel: Logger.Level
    let logger: Logger

    var description: String { "trackerd loop over \(source.description)" }

    private enum Input: Sendable {
        case fix(Fix)
        case tick
        case sourceEnded
        case mqtt(MQTTEvent)
        case wake
    }

    func run() async throws {
        let clock = ContinuousClock()
        let remoteSettings = JSONStateFile<RemoteSettingsRecord>(path: config.store.directory + "/remote-settings.json",
                                                                 name: "the applied shadow settings")
        let clientID = config.mqtt.clientID ?? deviceID
        var config = config, zones = zones
        var remote: EngineSettings.Remote?
        var shadow: DeviceShadow?
        if connection != nil && config.mqtt.shadow {
            let base = EngineSettings.Remote(file: config, fileZones: zones, thingName: thingName ?? clientID,
                                             logLevel: EngineLogEntry.Level(rawValue: logLevel.rawValue) ?? .info)
            let (applied, version) = restoredRemoteSettings(remoteSettings)
            shadow = DeviceShadow(thingName: base.thingName, applied: applied, appliedVersion: version, processID: getpid())
            config = applied.applied(to: config)
            zones = applied.geofences.map { $0.compactMap { $0.zone() } } ?? zones
            if let level = applied.logLevel.flatMap(Logger.Level.init(rawValue:)) { StderrLogHandler.setLevelInForce(level) }
            remote = base
        }
        let zoneStates = JSONStateFile<GeofenceSnapshot>(path: config.store.directory + "/geofence.json", name: "the geofence states")
        let odometer = JSONStateFile<OdometerReading>(path: config.store.directory + "/odometer.json", name: "the odometer's metres")
        let restored = zones.isEmpty ? nil : zoneStates.load(logger: logger)
        let planner = PublicationPlanner(config: config, deviceID: deviceID, thingName: config.mqtt.clientID ?? deviceID,
                                         detector: GeofenceDetector(zones: zones, restored: restored?.zones ?? [:],
                                                                    lastTime: restored?.lastTime),
                                         odometer: odometer.load(logger: logger)?.metres ?? 0)
        let notifier = SystemdNotifier()
        var settings = EngineSettings(config: config, deviceID: deviceID, thingName: thingName, source: source.description,
                                      processID: getpid(), watchdogInterval: notifier.watchdogInterval)
        if connection == nil { settings.publishing = nil }
        settings.remote = remote
        let engine = TrackerEngine(settings: settings, planner: planner, now: clock.now, seed: .random(in: .min ... .max), shadow: shadow)
        let driver = EngineDriver(engine: engine,
                                  connection: connection, storeDirectory: config.store.directory,
                                  statusFile: StatusFile(directory: StatusFile.runtimeDirectory), zoneStates: zoneStates, odometer: odometer,
                                  remoteSettings: remoteSettings, notifier: notifier, logger: logger)

        let fixes = chain(source.fixes().map { Input.fix($0) }, [Input.sourceEnded].async)
        let ticks = AsyncTimerSequence(interval: .milliseconds(500), clock: clock).map { _ in Input.tick }
        let mqtt = (connection?.events ?? AsyncStream { $0.finish() }).map { Input.mqtt($0) }
        // The engine's `.wake(at:)` requests, as inputs at their moment (one timer at a time,
        // for the earliest).
        let (wakes, wakeUp) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingNewest(1))
        var timer: (at: ContinuousClock.Instant, task: Task<Void, Never>)?
        driver.send(.start)
        for await input in merge(merge(fixes, ticks), merge(mqtt, wakes)).cancelOnGracefulShutdown() {
            switch input {
            case .fix(let fix): driver.send(.fix(fix))
            case .tick: driver.send(.tick)
            case .sourceEnded: driver.send(.sourceEnded)
            case .mqtt(let event): driver.send(event)
            case .wake:
                timer = nil
                driver.send(.wake)
            }
            if driver.finished { break }
            if let at = driver.wakeAt, timer.map({ at < $0.at }) ?? true {
                timer?.task.cancel()
                timer = (at, Task {
                    do { try await clock.sleep(until: at) } catch { return }
                    wakeUp.yield(.wake)
                })
            }
        }
        timer?.task.cancel()
        // A stop may wait for the rate cap to say "offline"; never more than 2 s.
        let deadline = clock.now + .seconds(2)
        driver.send(.stop)
        while !driver.stopped && clock.now < deadline {
            try? await clock.sleep(until: min(driver.wakeAt ?? deadline, deadline))
            driver.send(.wake)
        }
    }

    /// The shadow settings applied in the last run, in force until the shadow answers (a tracker
    /// that boots offline keeps what it was told); a kept document this version no longer
    /// accepts is reported and left out.
    private func restoredRemoteSettings(_ file: JSONStateFile<RemoteSettingsRecord>) -> (RemoteSettings, version: Int) {
        guard let record = file.load(logger: logger) else { return (RemoteSettings(), 0) }
        switch RemoteSettings.validate(record.desired) {
        case .success(let settings):
            if !settings.document.isEmpty {
                logger.info("shadow settings of version \(record.version) in force until the shadow answers: \(settings.document.keys.sorted().joined(separator: ", "))")
            }
            return (settings, record.version)
        case .failure(let invalid):
            let list = invalid.problems.map { "\($0.path): \($0.problem)" }.joined(separator: "; ")
            logger.error("the shadow settings in \(file.path) are not valid (\(list)); the file's settings are used until the shadow answers")
            return (RemoteSettings(), 0)
        }
    }
}
