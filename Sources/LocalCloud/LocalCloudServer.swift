import Foundation
import Logging
import TrackerCore
import TrackerMQTT

/// `localcloud serve DIR`: Mosquitto with TLS and client certificates, the fleet-provisioning
/// answers, broker ACLs kept in step with the registry, and the rules-engine role: every
/// message on the telemetry or event topics appended to DIR/received.jsonl.
public final class LocalCloudServer: Sendable {
    public let directory: LocalCloudDirectory
    public let port: Int
    private let logger: Logger
    private let options: ProvisioningService.Options
    private let trail = PublisherTrail()
    private let webhooks: WebhookDelivery
    private let limits: AWSLimitMode
    /// Where DIR/files/ is served over HTTPS (job payloads), and at what rate (0: no limit).
    public let filesPort: Int
    private let filesRate: Int
    /// The dashboard on http://127.0.0.1:`httpPort`/ (nil: none).
    public let httpPort: Int?
    private let dashboard: Dashboard.Settings
    /// A GeoJSON file of zones for the dashboard (`serve --zones`).
    private let zonesFile: String?
    /// What the dashboard shows, fed from the broker's log, the rules subscription, provisioning,
    /// shadows and jobs.
    public let activity = FleetActivity()

    public typealias AWSLimitMode = AWSLimitWatch.Mode

    public init(directory: LocalCloudDirectory, port: Int, options: ProvisioningService.Options = .init(),
                webhooks: [URL] = [], awsLimits: AWSLimitMode = .warn, filesPort: Int? = nil, filesRate: Int = 0,
                httpPort: Int? = nil, dashboard: Dashboard.Settings = .init(pageDirectory: Dashboard.Settings.bundledPage),
                zonesFile: String? = nil, logger: Logger) {
        self.httpPort = httpPort
        self.dashboard = dashboard
        self.zonesFile = zonesFile
        self.directory = directory
        self.port = port
        self.filesPort = filesPort ?? port + 1
        self.filesRate = filesRate
        self.options = options
        self.logger = logger
        self.webhooks = WebhookDelivery(urls: webhooks, logger: logger)
        self.limits = awsLimits
    }

    public struct ServeError: Error, CustomStringConvertible {
        public let description: String
    }

    public func run() async throws {
        let registry = try ThingRegistry(path: directory.registry)
        try registry.compact()
        try writeBrokerFiles(registry)
        let zones: FleetZones
        do { zones = try FleetZones(file: zonesFile, shadowsDirectory: directory.shadows) } catch {
            throw ServeError(description: "--zones \(error)")
        }
        let activity = self.activity
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let trail = self.trail
        let watch = AWSLimitWatch(mode: limits, logger: logger) { [self] client in await disconnect(client) }
        let process = try SpawnedProcess("/usr/sbin/mosquitto", ["-c", directory.brokerConfig]) { line in
            // Each PUBLISH line is read once, for both its uses.
            if let publish = MosquittoPublishLine(line) {
                watch.observe(publish)
                trail.record(publish)
                return
            }
            watch.observe(line: line)
            switch MosquittoConnectionLine(line) {
            case .connected(let client)?: activity.update { $0.connection(client, connected: true, at: Self.now()) }
            case .disconnected(let client, let reason)?: activity.update { $0.connection(client, connected: false, reason: reason, at: Self.now()) }
            case nil: break
            }
            if PublisherTrail.isPacketNoise(line) { return }
            FileHandle.standardError.write(Data(("mosquitto: " + line + "\n").utf8))
            if line.contains(" running") { signal.yield() }
        }
        // Job payloads: a failure here is said, and the MQTT side serves on without it.
        var files: FileServer?
        do {
            try FileManager.default.createDirectory(atPath: directory.files, withIntermediateDirectories: true)
            files = try FileServer(root: directory.files, port: filesPort, certificate: directory.serverCertificate,
                                   key: directory.serverKey, bytesPerSecond: filesRate)
            logger.info("serving \(directory.files) at https://localhost:\(filesPort)/\(filesRate > 0 ? " at \(filesRate) bytes/s" : "")")
        } catch {
            logger.error("job files are not served: \(error)")
        }
        defer { files?.stop() }
        // The dashboard: a failure here is said too, and the rest serves on.
        let replayed = activity.replay(received: directory.received)
        activity.update { view in
            for thing in registry.all { view.registered(thing.thingName, at: thing.registeredAt, attributes: thing.attributes) }
        }
        var web: HTTPServer?
        if let httpPort {
            let site = Dashboard(settings: dashboard, activity: activity, zones: zones)
            do {
                web = try HTTPServer(port: httpPort) { request in site.respond(request) }
                logger.info("dashboard at http://127.0.0.1:\(httpPort)/ (\(registry.all.count) things, \(replayed) messages of received.jsonl replayed)")
            } catch {
                logger.error("the dashboard is not served: \(error)")
            }
        }
        defer { web?.stop() }
        do {
            try await serve(process, started: started, registry: registry)
        } catch {
            await process.terminate()
            throw error
        }
        await process.terminate()
    }

    private func serve(_ process: SpawnedProcess, started: AsyncStream<Void>, registry: ThingRegistry) async throws {
        let running = await withTaskGroup(of: Bool.self) { group in
            group.addTask { for await _ in started { return true }; return false }
            group.addTask { try? await Task.sleep(for: .seconds(10)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        let up = running && process.isRunning
        guard up else {
            throw ServeError(description: "mosquitto did not start on port \(port) (is the port free? see its log above)")
        }

        let activity = self.activity
        let identities = try BrokerTableFile(path: directory.brokerIdentities)
        let replies = try BrokerTableFile(path: directory.brokerReplies, truncating: true)
        let trail = self.trail
        let authority = CertificateAuthority(certificatePEM: try String(contentsOfFile: directory.caCertificate, encoding: .utf8),
                                             keyPEM: try String(contentsOfFile: directory.caKey, encoding: .utf8))
        var templates: [ProvisioningTemplate] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.templates).sorted() where file.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory.templates + "/" + file))
            do {
                templates.append(try ProvisioningTemplate(name: String(file.dropLast(5)), json: data))
            } catch {
                logger.error("template \(file): \(error)")
            }
        }
        let service = ProvisioningService(connection: try connection("localcloud-provisioning"), authority: authority,
                                          templates: templates, registry: registry, options: options, logger: logger,
                                          requester: { topic, size in
            // Up to 2 s: a request left unmatched would leave its line behind for the next
            // request of the same size, and that one's reply would go to the wrong device.
            await trail.publisher(topic: topic, size: size, patience: .seconds(2))
        }, route: { [logger] payload, client in
            guard let line = BrokerACL.replyLine(payload: payload, clientID: client) else { return }
            do { try replies.append(line: line) } catch { logger.error("cannot route a provisioning reply to \(client): \(error)") }
        }) { [self] thing in
            activity.update { $0.registered(thing.thingName, at: thing.registeredAt, attributes: thing.attributes) }
            do {
                try identities.append(thing)
            } catch {
                logger.error("cannot give \(thing.thingName) its topics in the broker's ACL: \(error)")
            }
        }
        let rules = try connection("localcloud-rules")
        let shadows = ShadowService(connection: try connection("localcloud-shadows"), directory: directory.shadows, logger: logger) { _, name in
            if name == "trackerd" { activity.update { $0.zonesChanged() } }
        }
        let jobs = JobsService(connection: try connection("localcloud-jobs"), store: JobStore(directory: directory.jobs),
                               logger: logger) { thing, execution in
            activity.update { $0.jobExecution(thing: thing, jobId: execution.jobId, status: execution.status,
                                              details: execution.statusDetails, at: Self.now()) }
        }
        let ready = AsyncStream.makeStream(of: Bool.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await service.run { ready.continuation.yield(true) } }
            group.addTask {
                await self.deliver(rules, ready: { ready.continuation.yield(true) }) { topic, payload in
                    self.confirm(registry, topic: topic, payload: payload, broker: process.pid)
                }
            }
            group.addTask { await shadows.run { ready.continuation.yield(true) } }
            group.addTask { await jobs.run { ready.continuation.yield(true) } }
            var count = 0
            for await _ in ready.stream {
                count += 1
                if count == 4 { break }
            }
            let page = httpPort.map { ", dashboard http://127.0.0.1:\($0)/" } ?? ""
            logger.notice("localcloud ready: mqtts://localhost:\(port)\(page), CA \(directory.caCertificate), claim \(directory.claimCertificate), templates \(templates.map(\.name).joined(separator: ", ")), received messages in \(directory.received)")
            await group.waitForAll()
        }
    }

    /// Now, as the dashboard writes times.
    static func now() -> String {
        UTCTimestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded())).iso8601
    }

    /// Takes `clientID` over for a moment: the broker closes the client's own connection, as AWS
    /// IoT Core does when a second connection uses the same client id.
    private func disconnect(_ clientID: String) async {
        guard let impostor = try? connection(clientID) else { return }
        impostor.start()
        let deadline = ContinuousClock.now + .seconds(5)
        for await event in impostor.events {
            if case .connected = event { break }
            if ContinuousClock.now > deadline { break }
        }
        await impostor.shutdown()
    }

    private func connection(_ clientID: String) throws -> MQTTConnection {
        try MQTTConnection(settings: MQTTSettings(host: "localhost", port: port, caFile: directory.caCertificate,
                                                  certFile: directory.serviceCertificate, keyFile: directory.serviceKey,
                                                  clientID: clientID),
                           logger: logger, backoff: Backoff(base: .milliseconds(100), cap: .seconds(2)))
    }

    /// The rules engine's role: telemetry and events to DIR/received.jsonl.
    private func deliver(_ rules: MQTTConnection, ready: @Sendable () -> Void,
                         presence: (String, [UInt8]) -> Void) async {
        rules.start()
        var subscription: Int32?
        if !FileManager.default.fileExists(atPath: directory.received) {
            _ = FileManager.default.createFile(atPath: directory.received, contents: nil)
        }
        guard let handle = FileHandle(forUpdatingAtPath: directory.received) else {
            logger.error("cannot open \(directory.received) for appending: received messages are not recorded")
            await rules.shutdown()
            return
        }
        handle.seekToEndOfFile()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for await event in rules.events {
            if Task.isCancelled { break }
            switch event {
            case .connected:
                if case .success(let id) = rules.subscribe(["gpsTopic", "trackers/+/geofence", "trackers/+/status", "trackers/+/backlog", "trackers/+/alerts"]) { subscription = id }
            case .subscribed(let id, _) where id == subscription:
                ready()
            case .message(let topic, let payload):
                let publisher = await trail.publisher(topic: topic, size: payload.count, patience: .milliseconds(200))
                let clientID: Any = publisher ?? NSNull()
                let body: Any = (try? JSONSerialization.jsonObject(with: Data(payload))) ?? String(decoding: payload, as: UTF8.self)
                let receivedAt = formatter.string(from: Date())
                if let value = JSONValue.parse(payload) {
                    activity.update { $0.received(topic: topic, clientID: publisher, payload: value, at: receivedAt) }
                }
                var lines: [[String: Any]] = [["topic": topic, "clientId": clientID, "receivedAt": receivedAt, "payload": body]]
                // A backlog batch: each fix on a line of its own, as if it had come alone.
                if topic.hasSuffix("/backlog"), let fixes = (body as? [String: Any])?["fixes"] as? [Any] {
                    lines = fixes.map { ["topic": topic, "clientId": clientID, "receivedAt": receivedAt, "payload": $0, "backlog": true] }
                }
                for line in lines {
                    if var data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]) {
                        data.append(0x0A)
                        handle.write(data)
                    }
                }
                if topic.hasSuffix("/status") { presence(topic, payload) }
                if topic.hasSuffix("/geofence") || topic.hasSuffix("/alerts") {
                    // The notification SNS used to send: the log, received.jsonl above, and the webhooks.
                    let kind = topic.hasSuffix("/geofence") ? "geofence event" : "alert"
                    logger.notice("\(kind) from \(publisher ?? "unknown"): \(String(decoding: payload, as: UTF8.self))")
                    webhooks.deliver(Data(payload))
                }
            default:
                break
            }
        }
        await rules.shutdown()
    }

    /// The CRL of every revoked certificate (an empty one at first: Mosquitto then checks every
    /// client against it).
    private func writeRevocationList(_ registry: ThingRegistry) throws {
        let authority = CertificateAuthority(certificatePEM: try String(contentsOfFile: directory.caCertificate, encoding: .utf8),
                                             keyPEM: try String(contentsOfFile: directory.caKey, encoding: .utf8))
        let list = try authority.revocationList(serials: registry.revokedSerials)
        try Data(list.utf8).write(to: URL(fileURLWithPath: directory.revocationList), options: .atomic)
    }

    /// A thing said it is online with `certificateId` (its presence message): once that is the
    /// certificate a rotation gave it, the one it replaced is revoked — the role an IoT rule and
    /// a Lambda calling UpdateCertificate (INACTIVE) play on AWS.
    private func confirm(_ registry: ThingRegistry, topic: String, payload: [UInt8], broker: pid_t) {
        let parts = topic.split(separator: "/")
        guard parts.count == 3, parts[0] == "trackers", parts[2] == "status",
              let body = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              body["state"] as? String == "online", let certificateId = body["certificateId"] as? String else { return }
        do {
            let revoked = try registry.confirm(thingName: String(parts[1]), certificateId: certificateId)
            guard !revoked.isEmpty else { return }
            try writeRevocationList(registry)
            kill(broker, SIGHUP)
            logger.notice("\(parts[1]) is online with its new certificate \(certificateId): revoked \(revoked.joined(separator: ", "))")
        } catch {
            logger.error("cannot revoke the certificates \(parts[1]) rotated away from: \(error)")
        }
    }

    private func writeBrokerFiles(_ registry: ThingRegistry) throws {
        let user = getuid() == 0 ? "user root\n" : ""
        let config = """
        # Written by localcloud serve.
        \(user)per_listener_settings false
        persistence false
        log_dest stderr
        log_type error
        log_type warning
        log_type notice
        log_type information
        log_type debug
        connection_messages true
        allow_anonymous false
        listener \(port) 127.0.0.1
        cafile \(directory.caCertificate)
        certfile \(directory.serverCertificate)
        keyfile \(directory.serverKey)
        require_certificate true
        use_identity_as_username true
        # The ACL: localcloud's plugin and its table of identities (BrokerACL).
        \(BrokerACL.configuration(plugin: BrokerACL.pluginPath, identities: directory.brokerIdentities, replies: directory.brokerReplies))
        # Certificates rotated away: refused at the handshake (rewritten and reloaded on SIGHUP).
        crlfile \(directory.revocationList)
        max_inflight_messages 100
        # Mosquitto's default (1000) drops what a slow subscriber has not taken: localcloud's own
        # rules client, busy on a loaded machine while a fleet drains its backlogs, lost messages
        # AWS's rules engine would have delivered.
        max_queued_messages 100000

        """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory.brokerConfig), options: .atomic)
        try writeRevocationList(registry)
        try Data(BrokerACL.table(registry.all).utf8).write(to: URL(fileURLWithPath: directory.brokerIdentities), options: .atomic)
    }
}
