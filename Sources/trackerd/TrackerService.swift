#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AsyncAlgorithms
import Logging
import ServiceLifecycle
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerSystem

/// The daemon's one loop: fixes from the source, the MQTT connection's events, and the wakes
/// the engine asks for (its timers: no fixed tick, so an idle tracker sleeps), handed one at a
/// time to the engine, whose actions `EngineDriver` carries out. A finished
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
    /// What the shadow's settings are laid over, when the device follows its shadow (`config`
    /// and `zones` are then the file's with the last applied shadow settings over them).
    let remote: EngineSettings.Remote?
    /// The shadow as the last run left it.
    let shadow: DeviceShadow?
    /// Jobs as the last run left them, and the zone set a job put in force then.
    let jobs: JobRunner?
    let jobZones: [Zone]?
    /// `zones` is that job's zone set (a new zone then starts quietly outside).
    let zonesFromJob: Bool
    /// The installed package's version.
    let version: String
    /// The certificate in use (nil without an endpoint).
    let certificate: DeviceKeys.CertificateInfo?
    let logger: Logger

    var description: String { "trackerd loop over \(source.description)" }

    private enum Input: Sendable {
        case fix(Fix)
        case sourceEnded
        case mqtt(MQTTEvent)
        case wake
        /// Work done off the loop reporting back (downloads, zone sets).
        case result(EngineInput)
    }

    func run() async throws {
        let clock = ContinuousClock()
        let zoneStates = JSONStateFile<GeofenceSnapshot>(path: config.store.directory + "/geofence.json", name: "the geofence states")
        let odometer = JSONStateFile<OdometerReading>(path: config.store.directory + "/odometer.json", name: "the odometer's metres")
        let restored = zones.isEmpty ? nil : zoneStates.load(logger: logger)
        var detector = GeofenceDetector(zones: zones, restored: restored?.zones ?? [:], lastTime: restored?.lastTime)
        detector.announcesInitialOutside = !zonesFromJob
        let planner = PublicationPlanner(config: config, deviceID: deviceID, thingName: config.mqtt.clientID ?? deviceID,
                                         detector: detector, odometer: odometer.load(logger: logger)?.metres ?? 0)
        let notifier = SystemdNotifier()
        var settings = EngineSettings(config: config, deviceID: deviceID, thingName: thingName, source: source.description,
                                      processID: getpid(), watchdogInterval: notifier.watchdogInterval)
        if connection == nil { settings.publishing = nil }
        settings.publishing?.version = version
        settings.logLevel = EngineLogEntry.Level(rawValue: logger.logLevel.rawValue) ?? .info
        if connection != nil, let info = certificate {
            settings.publishing?.certificateId = info.certificateId
            settings.certificate = (info.certificateId, CertificateLifetime(notBefore: info.notBefore, notAfter: info.notAfter),
                                    config.mqtt.keyFile.hasPrefix("pkcs11:") ? "token" : "file",
                                    config.provisioning != nil ? config.credentials.rotateBeforeDays : nil)
        }
        settings.remote = remote
        let engine = TrackerEngine(settings: settings, planner: planner, now: clock.now, seed: .random(in: .min ... .max), shadow: shadow,
                                   jobs: jobs, jobZones: jobZones)
        let (results, resultSink) = AsyncStream.makeStream(of: EngineInput.self, bufferingPolicy: .unbounded)
        let driver = EngineDriver(engine: engine,
                                  connection: connection, storeDirectory: config.store.directory,
                                  statusFile: StatusFile(directory: StatusFile.runtimeDirectory), zoneStates: zoneStates, odometer: odometer,
                                  remoteSettings: RemoteSettingsFile(storeDirectory: config.store.directory).state,
                                  jobFiles: JobFiles(directory: config.jobs.directory), jobsCAFile: config.jobs.caFile, results: resultSink,
                                  notifier: notifier, logger: logger)

        let fixes = chain(source.fixes().map { Input.fix($0) }, [Input.sourceEnded].async)
        let mqtt = merge((connection?.events ?? AsyncStream { $0.finish() }).map { Input.mqtt($0) }, results.map { Input.result($0) })
        // The engine's `.wake(at:)` requests, as inputs at their moment (one timer at a time,
        // for the earliest).
        let (wakes, wakeUp) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingNewest(1))
        var timer: (at: ContinuousClock.Instant, task: Task<Void, Never>)?
        driver.send(.start)
        for await input in merge(fixes, mqtt, wakes).cancelOnGracefulShutdown() {
            switch input {
            case .fix(let fix): driver.send(.fix(fix))
            case .sourceEnded: driver.send(.sourceEnded)
            case .mqtt(let event): driver.send(event)
            case .result(let input): driver.send(input)
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
        driver.stopWork()
        resultSink.finish()
        // A stop may wait for the rate cap to say "offline"; never more than 2 s.
        let deadline = clock.now + .seconds(2)
        driver.send(.stop)
        while !driver.stopped && clock.now < deadline {
            try? await clock.sleep(until: min(driver.wakeAt ?? deadline, deadline))
            driver.send(.wake)
        }
        if driver.restartRequested {
            logger.notice("trackerd stops to be started again (exit 75): the certificate rotation comes first")
            throw ExitStatus.restart
        }
    }
}
