#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerSystem

/// The daemon's one loop: fixes from the source, the MQTT connection's events, and the wakes
/// the engine asks for (its timers: no fixed tick, so an idle tracker sleeps), handed one at a
/// time to the engine, whose actions `EngineDriver` carries out. A finished
/// replay ends the loop once the queue has drained; a stop (`stop`, on SIGTERM) keeps the queue.
struct TrackerService: CustomStringConvertible {
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
        case stop
    }

    /// Every input in one stream, in the order it came: each source is pumped into it by a task
    /// of its own; the timer, the work done off the loop and `stop` yield into it directly.
    private let channel = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)

    /// Ends the loop as a stop: what is queued is written, "offline" said, the run returns.
    func stop() {
        channel.continuation.yield(.stop)
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
        let (inputs, input) = channel
        let driver = EngineDriver(engine: engine,
                                  connection: connection, storeDirectory: config.store.directory,
                                  statusFile: StatusFile(directory: StatusFile.runtimeDirectory), zoneStates: zoneStates, odometer: odometer,
                                  remoteSettings: RemoteSettingsFile(storeDirectory: config.store.directory).state,
                                  jobFiles: JobFiles(directory: config.jobs.directory), jobsCAFile: config.jobs.caFile,
                                  results: { input.yield(.result($0)) },
                                  notifier: notifier, logger: logger)

        let fixes = source.fixes(), events = connection?.events
        // Cancelling a pump ends its iteration, which stops the source (its reader thread).
        let pumps = [
            Task {
                for await fix in fixes { input.yield(.fix(fix)) }
                input.yield(.sourceEnded)
            },
            Task {
                guard let events else { return }
                for await event in events { input.yield(.mqtt(event)) }
            },
        ]
        // The engine's `.wake(at:)` requests, as inputs at their moment (one timer at a time,
        // for the earliest).
        var timer: (at: ContinuousClock.Instant, task: Task<Void, Never>)?
        driver.send(.start)
        loop: for await next in inputs {
            switch next {
            case .stop: break loop
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
                    input.yield(.wake)
                })
            }
        }
        timer?.task.cancel()
        for pump in pumps { pump.cancel() }
        driver.stopWork()
        input.finish()
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
