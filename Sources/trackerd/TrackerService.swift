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
/// time to the engine, whose actions `EngineDriver` carries out. The loop is a thread of its
/// own that sleeps on an `InputQueue` until an input or its next timer, and in the same sleep
/// on the serial port or the replay it serves itself (`LoopServedFixSource`), so a fix costs the
/// board one wake-up (gpsd's thread puts into the queue directly: two). Once connected, the loop
/// also serves the connection's socket: a publish is written at once, and a PUBACK that nothing
/// waits for is read with the next fix instead of waking anyone (the connection's thread only
/// connects and reconnects). A finished replay ends the loop once the queue has drained; a stop
/// (`stop`, on SIGTERM) keeps the queue.
struct TrackerService {
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

    private enum Input: Sendable {
        case fix(Fix)
        case sourceEnded
        case mqtt(MQTTEvent)
        /// Work done off the loop reporting back (downloads, zone sets).
        case result(EngineInput)
        /// The connection handed a session to the loop: its socket joins the loop's sleep.
        case socket
        case stop
    }

    /// Every input, in the order it came.
    private let inbox = InputQueue<Input>()

    /// Ends the loop as a stop: what is queued is written, "offline" said, the run returns.
    func stop() {
        inbox.put(.stop)
    }

    /// Starts the connection (when there is one) and runs the loop on its thread until the
    /// replay ends or `stop`; throws `ExitStatus.restart` when a restart was asked for.
    func run() async throws {
        let service = self
        let restart = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            if !ReaderThread.start(name: "trackerd-loop", { done.resume(returning: service.loop()) }) {
                logger.critical("cannot start the tracker loop's thread")
                done.resume(returning: false)
            }
        }
        if restart {
            logger.notice("trackerd stops to be started again (exit 75): the certificate rotation comes first")
            throw ExitStatus.restart
        }
    }

    /// The loop, on its own thread; true when a restart was asked for.
    private func loop() -> Bool {
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
        let engine = TrackerEngine(settings: settings, planner: planner, now: MonotonicInstant.now, seed: .random(in: .min ... .max), shadow: shadow,
                                   jobs: jobs, jobZones: jobZones)
        let inbox = self.inbox
        let driver = EngineDriver(engine: engine,
                                  connection: connection, storeDirectory: config.store.directory,
                                  statusFile: StatusFile(directory: StatusFile.runtimeDirectory), zoneStates: zoneStates, odometer: odometer,
                                  remoteSettings: RemoteSettingsFile(storeDirectory: config.store.directory).state,
                                  jobFiles: JobFiles(directory: config.jobs.directory), jobsCAFile: config.jobs.caFile,
                                  results: { inbox.put(.result($0)) },
                                  notifier: notifier, logger: logger)

        connection?.start(delivering: { inbox.put(.mqtt($0)) }, servedBy: { inbox.put(.socket) })
        // A serial port or a replay is served here, in the loop's own sleep; gpsd has a thread.
        var reader = (source as? any LoopServedFixSource)?.makeReader()
        let stopSource = reader == nil ? source.start { fix in inbox.put(fix.map(Input.fix) ?? .sourceEnded) } : {}
        driver.send(.start)
        loop: while !driver.finished {
            for input in next(until: driver.wakeAt, reader: &reader) {
                switch input {
                case .stop: break loop
                case .fix(let fix): driver.send(.fix(fix))
                case .sourceEnded: driver.send(.sourceEnded)
                case .mqtt(let event): driver.send(event)
                case .result(let result): driver.send(result)
                case .socket: break
                }
                if driver.finished { break loop }
            }
            if let at = driver.wakeAt, MonotonicInstant.now >= at { driver.send(.wake) }
        }
        stopSource()
        reader?.close()
        driver.stopWork()
        // A stop may wait for the rate cap to say "offline"; never more than 2 s. What comes in
        // meanwhile is not looked at: the stop has begun (the socket is still served).
        let deadline = MonotonicInstant.now + .seconds(2)
        driver.send(.stop)
        while !driver.stopped && MonotonicInstant.now < deadline {
            let until = min(driver.wakeAt ?? deadline, deadline)
            var none: (any FixReader)?
            _ = next(until: until, reader: &none)
            if MonotonicInstant.now >= until { driver.send(.wake) }
        }
        // The connection's thread says goodbye (DISCONNECT) when the run shuts it down.
        connection?.release()
        return driver.restartRequested
    }

    /// The inputs that came by `deadline`, in one sleep with the connection's socket (when the
    /// loop serves it) and the source the loop serves: what the socket held is read (its events
    /// put into the inbox, for the next call) and what is queued for it written; the source's
    /// cycles come last, as `.fix` inputs, and `.sourceEnded` once, when the reader is let go.
    private func next(until deadline: MonotonicInstant?, reader: inout (any FixReader)?) -> [Input] {
        let request = connection?.socketRequest(now: .now)
        var until = deadline
        func earliest(_ instant: MonotonicInstant?) {
            if let instant { until = min(until ?? instant, instant) }
        }
        var watched: [pollfd] = []
        if let request {
            watched.append(request.descriptor)
            earliest(request.serveBy)
        }
        if let reader {
            watched.append(pollfd(fd: reader.descriptor, events: Int16(POLLIN), revents: 0))
            earliest(reader.serveBy)
        }
        var inputs = inbox.take(until: until, watching: &watched)
        let now = MonotonicInstant.now
        if request != nil { connection?.serve(now: now) }
        if let served = reader, watched.last?.revents != 0 || served.serveBy.map({ now >= $0 }) ?? false {
            let (fixes, ended) = served.serve(now: now)
            inputs += fixes.map(Input.fix)
            if ended {
                served.close()
                reader = nil
                inputs.append(.sourceEnded)
            }
        }
        return inputs
    }
}
