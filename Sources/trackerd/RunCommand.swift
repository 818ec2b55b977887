#if canImport(Glibc)
import Glibc
#endif
import Logging
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerStorage
import TrackerSystem

struct RunCommand: TrackerSubcommand {
    static let spec = CommandLineArguments.Spec(
        name: "run",
        abstract: "Run the tracker: read fixes from the configured source and report them.",
        discussion: "SIGTERM or SIGINT stops it cleanly. Logs go to stderr (with journald priorities under systemd).",
        options: [
            .option("config", "file", "The configuration file (default: \(TrackerConfig.defaultPath))."),
            .option("replay", "file", "Replay this NMEA file instead of the configured source."),
            .option("replay-speed", "factor", "Replay speed factor: 1 real time, 10 ten times faster, 0 as fast as possible."),
            .logLevel,
            .option("board", "name", "A board profile (boards/NAME.toml), instead of [device] board."),
        ])

    let config: String?
    let replay: String?
    let replaySpeed: Double?
    let logLevel: String
    let board: String?

    init(_ arguments: CommandLineArguments) throws(CommandLineArguments.UsageError) {
        config = arguments.value("config")
        replay = arguments.value("replay")
        replaySpeed = try arguments.number("replay-speed", in: 0...10_000)
        logLevel = try arguments.logLevel()
        board = arguments.value("board")
    }

    func run() async throws {
        // A broker or pipe that goes away mid-write must be an error to handle, not a dead daemon.
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        var (settings, origin, logger) = try ConfigFile.start(config, logLevel: logLevel)
        let version = InstalledVersion.read()
        logger.info("trackerd \(version) starting with \(origin)")
        var profile: BoardProfile?
        if let name = board ?? settings.device.board {
            let loaded = try BoardProfiles.load(name, logger: logger)
            settings.gps = loaded.apply(to: settings.gps)
            logger.info("board \(loaded.name): \(loaded.device) at \(loaded.baud) baud")
            profile = loaded
        }
        if let replay {
            settings.gps.source = .replay
            settings.gps.replayFile = replay
        }
        if let replaySpeed { settings.gps.replaySpeed = replaySpeed }
        if settings.device.id == nil {
            settings.device.id = BoardSerialNumber.read()
        }
        logger.info("device id \(settings.device.id ?? "unknown: set [device] id (no board serial number or machine id found)")")
        var thingName: String?
        if settings.mqtt.endpoint != nil { try TokenAccess.open(settings, logger: logger) }
        if case .token(let uri) = settings.credentials.key, settings.provisioning == nil {
            settings.mqtt.keyFile = uri.keyURI
        }
        if settings.provisioning == nil { CertificateRotation.refuseRequest(storeDirectory: settings.store.directory, logger: logger) }
        if settings.provisioning != nil && settings.mqtt.endpoint != nil {
            let (record, store) = try await DeviceProvisioning.ensure(settings, deviceID: settings.device.id ?? "unknown", logger: logger)
            // Before the tracker connects: a certificate near its end (or a job's request) is
            // renewed, and the pair it leaves in use is the one read below.
            await CertificateRotation.run(settings, deviceID: settings.device.id ?? "unknown", record: record, logger: logger)
            settings.mqtt.certFile = store.activeCertificate
            do { settings.mqtt.keyFile = try store.activeKeyLocation() } catch {
                logger.critical("credentials: \(error)")
                throw ExitStatus.credentials
            }
            if settings.mqtt.clientID == nil { settings.mqtt.clientID = record.thingName }
            logger.info("using the device certificate of \(record.thingName)")
            thingName = record.thingName
        }

        if settings.mqtt.endpoint != nil {
            do {
                if let uri = try? PKCS11URI(parsing: settings.mqtt.keyFile) {
                    try ClientCredentials.check(certificateFile: settings.mqtt.certFile, tokenKey: uri)
                } else {
                    try CredentialStore.checkPrivateKey(settings.mqtt.keyFile)
                    try ClientCredentials.check(certificateFile: settings.mqtt.certFile, keyFile: settings.mqtt.keyFile)
                }
            } catch {
                logger.critical("credentials: \(error)")
                throw ExitStatus.credentials
            }
        }
        // The certificate in use, read once: the jobs' rotate-certificate, the status and the
        // presence message name it, and the engine watches its expiry.
        let certificate = settings.mqtt.endpoint == nil ? nil
            : (try? FileReader.readAll(settings.mqtt.certFile)).flatMap { DeviceKeys.info(String(decoding: $0, as: UTF8.self)) }
        var zones: [Zone]
        do { zones = try GeofenceFiles.zones(settings.geofences) } catch {
            logger.error("configuration: \(error)")
            throw ExitStatus.configuration
        }
        let deviceID = settings.device.id ?? "unknown"
        // The shadow's last applied settings over the file's, before anything uses them.
        var remote: EngineSettings.Remote?
        var shadow: DeviceShadow?
        var jobs: JobRunner?
        var jobZones: [Zone]?
        /// A job's zone set is the one in force (not the file's, not the shadow's).
        var zonesFromJob = false
        if settings.mqtt.endpoint != nil && (settings.mqtt.shadow || settings.jobs.enabled) {
            let base = EngineSettings.Remote(file: settings, fileZones: zones, thingName: thingName ?? settings.mqtt.clientID ?? deviceID,
                                             logLevel: EngineLogEntry.Level(rawValue: level.rawValue) ?? .info,
                                             shadow: settings.mqtt.shadow, jobs: settings.jobs.enabled)
            if settings.jobs.enabled {
                let files = JobFiles(directory: settings.jobs.directory)
                jobs = JobRunner(thingName: base.thingName, version: version, ledger: files.ledger.load(logger: logger) ?? JobLedger(),
                                 installResult: files.installResult.load(logger: logger), processID: getpid(),
                                 certificateId: certificate?.certificateId,
                                 rotationFailure: CertificateRotation.failure(storeDirectory: settings.store.directory))
                if access(files.zones, F_OK) == 0 {
                    switch JobFiles.readZones(files.zones) {
                    case .success(let kept):
                        jobZones = kept
                        zones = kept
                        zonesFromJob = true
                        logger.info("\(kept.count) zones from \(files.zones) (an update-geofences job) are in force")
                    case .failure(let why):
                        logger.error("the zone set in \(files.zones) is not used: \(why.reason)")
                    }
                }
            }
            if settings.mqtt.shadow {
                let (applied, version) = RemoteSettingsFile(storeDirectory: settings.store.directory).restore(logger: logger)
                shadow = DeviceShadow(thingName: base.thingName, applied: applied, appliedVersion: version, processID: getpid())
                settings = applied.applied(to: settings)
                if let remoteZones = applied.geofences {
                    zones = remoteZones.compactMap { $0.zone() }
                    zonesFromJob = false
                }
                if let remoteLevel = applied.logLevel.flatMap(Logger.Level.init(rawValue:)) { StderrLogHandler.setLevelInForce(remoteLevel) }
            }
            remote = base
        }
        var connection: MQTTConnection?
        if let endpoint = settings.mqtt.endpoint {
            let clientID = settings.mqtt.clientID ?? deviceID
            let mqtt = MQTTSettings(host: endpoint, port: settings.mqtt.port, caFile: settings.mqtt.caFile,
                                    certFile: settings.mqtt.certFile, keyFile: settings.mqtt.keyFile, clientID: clientID,
                                    keepalive: settings.mqtt.keepalive, protocolVersion5: settings.mqtt.protocolVersion == .v5,
                                    alpn: settings.mqtt.alpn,
                                    statusTopic: settings.mqtt.statusTopic.replacing("{clientId}", with: clientID))
            if let problem = ConnectionDiagnosis.clientCertificateProblem(mqtt) { logger.warning("\(problem)") }
            do {
                connection = try MQTTConnection(settings: mqtt, logger: logger,
                                                backoff: Backoff(base: settings.mqtt.reconnectMin, cap: settings.mqtt.reconnectMax))
            } catch {
                logger.error("MQTT: \(error)")
                throw ExitStatus.configuration
            }
        }
        let service = TrackerService(source: settings.gps.makeFixSource(logger: logger, board: profile), config: settings,
                                     deviceID: deviceID, thingName: thingName, zones: zones, connection: connection, remote: remote,
                                     shadow: shadow, jobs: jobs, jobZones: jobZones, zonesFromJob: zonesFromJob, version: version,
                                     certificate: certificate, logger: logger)
        // The loop starts the connection and the connection closes last: the loop flushes the
        // queue and says "offline" while it is still up. Each stop step is bounded (the loop's
        // 2 s, the connection's 2 s), well within the unit's TimeoutStopSec=10.
        let signals = TerminationSignals { [logger] number in
            logger.info("\(number == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
            service.stop()
        }
        defer { signals.cancel() }
        do {
            try await service.run()
        } catch {
            await connection?.shutdown()
            throw error
        }
        await connection?.shutdown()
        logger.info("trackerd stopped")
    }
}
