/// TrackerProvisioning: first-boot fleet provisioning. `FleetProvisioner` drives the core's
/// `ProvisioningFlow` over an MQTT connection made with the claim certificate, keeps every
/// intermediate result in the `CredentialStore`, and never logs a key, a token or a certificate.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerStorage
import TrackerSystem

public struct FleetProvisioner: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var caFile: String
        public var keepalive: Int
        public var alpn: String?
        public var provisioning: ProvisioningConfig
        public var serial: String
        public var mac: String
        /// Where the device key is made: a file under the store, or a token (opened already).
        public var deviceKey: CredentialsConfig.KeyStorage

        public init(host: String, port: Int, caFile: String, keepalive: Int = 60, alpn: String? = nil,
                    provisioning: ProvisioningConfig, serial: String, mac: String, deviceKey: CredentialsConfig.KeyStorage = .file) {
            self.host = host
            self.port = port
            self.caFile = caFile
            self.keepalive = keepalive
            self.alpn = alpn
            self.provisioning = provisioning
            self.serial = serial
            self.mac = mac
            self.deviceKey = deviceKey
        }
    }

    public enum ProvisioningError: Error, CustomStringConvertible {
        /// The cloud refused for good: an operator must fix the template, parameters or policy.
        case rejected(ProvisioningFailure)
        /// A credential file is unusable (mode, owner, unreadable).
        case credentials(CredentialStoreError)
        /// The token refused (PIN, missing token, full).
        case token(TokenKeys.TokenError)
        case setup(String)
        case cancelled

        public var description: String {
            switch self {
            case .rejected(let failure): "\(failure)"
            case .credentials(let error): "\(error)"
            case .token(let error): "\(error)"
            case .setup(let text): text
            case .cancelled: "provisioning was stopped"
            }
        }
    }

    private enum Input: Sendable {
        case flow(ProvisioningFlow.Event)
        case mqtt(MQTTEvent)
    }

    public let settings: Settings
    public let store: CredentialStore
    private let logger: Logger
    private let backoff: Backoff

    public init(settings: Settings, store: CredentialStore, logger: Logger,
                backoff: Backoff = Backoff(base: .seconds(1), cap: .seconds(120))) {
        self.settings = settings
        self.store = store
        self.logger = logger
        self.backoff = backoff
    }

    /// The device's provisioning record: the stored one, or a new one from the cloud.
    public func provision() async throws(ProvisioningError) -> ProvisioningResult {
        do {
            if let record = try store.activeRecord() { return record }
        } catch { throw .credentials(error) }
        let (present, missing) = store.incompleteActiveCredentials()
        if !missing.isEmpty {
            // The certificate is useless without its key (and the reverse): a new identity is
            // the only way on, and the operator must see that it was taken, and why.
            logger.warning("the device's credentials are incomplete (missing \(missing.joined(separator: ", ")); found \(present.joined(separator: ", "))): provisioning again with the claim certificate; the new certificate replaces them",
                           metadata: ["event": "reprovisioning", "missing": "\(missing.joined(separator: " "))"])
        }
        let config = settings.provisioning
        let claimKey: String
        switch config.claimKeyStorage {
        case .file:
            do { try CredentialStore.checkPrivateKey(config.claimKey) } catch { throw .credentials(error) }
            claimKey = config.claimKey
        case .token(let uri):
            claimKey = uri.keyURI
        }

        let method: ProvisioningFlow.Method
        switch (config.method, settings.deviceKey) {
        case (.createKeys, .token):
            throw .setup("a key in a token needs [provisioning] method = \"csr\": with \"create-keys\" AWS makes the key and sends it")
        case (.createKeys, .file):
            method = .createKeys
        case (.csr, .token(let configured)):
            method = .csr(try tokenCSR(configured, type: config.keyType))
        case (.csr, .file):
            method = .csr(try fileCSR(config.keyType))
        }
        let pending: PendingCertificate?
        do { pending = try store.loadPending() } catch { throw .credentials(error) }

        let claim = MQTTSettings(host: settings.host, port: settings.port, caFile: settings.caFile, certFile: config.claimCert,
                                 keyFile: claimKey, clientID: settings.serial, keepalive: settings.keepalive,
                                 alpn: settings.alpn)
        let connection: MQTTConnection
        do { connection = try MQTTConnection(settings: claim, logger: logger, backoff: backoff) } catch { throw .setup("\(error)") }
        logger.info("provisioning with the claim certificate at \(claim.endpoint), template \(config.template)")
        defer { Task { await connection.shutdown() } }
        return try await drive(ProvisioningFlow(method: method, template: config.template,
                                                parameters: config.resolvedParameters(serial: settings.serial, mac: settings.mac),
                                                pending: pending, stepTimeout: config.stepTimeout),
                               connection)
    }

    /// A new certificate for the device, asked for over its own connection (its certificate
    /// `certificateFile` and key `keyFile`, client id `thingName`) with the same CSR and
    /// RegisterThing steps as the first boot. `store` must be the rotation slot: the result is
    /// the new pair beside the one in use and rotation/next.json, nothing switched yet.
    public func rotate(certificateFile: String, keyFile: String, thingName: String) async throws(ProvisioningError) -> ProvisioningResult {
        precondition(store.slot == .rotation, "a rotation fills the rotation slot")
        let config = settings.provisioning
        let csr: String
        switch settings.deviceKey {
        case .token(let configured): csr = try tokenCSR(configured, type: config.keyType)
        case .file: csr = try fileCSR(config.keyType)
        }
        let pending: PendingCertificate?
        do { pending = try store.loadPending() } catch { throw .credentials(error) }
        let own = MQTTSettings(host: settings.host, port: settings.port, caFile: settings.caFile, certFile: certificateFile,
                               keyFile: keyFile, clientID: thingName, keepalive: settings.keepalive, alpn: settings.alpn)
        let connection: MQTTConnection
        do { connection = try MQTTConnection(settings: own, logger: logger, backoff: backoff) } catch { throw .setup("\(error)") }
        logger.info("rotation: asking \(own.endpoint) for a new certificate over the device's own connection")
        defer { Task { await connection.shutdown() } }
        return try await drive(ProvisioningFlow(method: .csr(csr), template: config.template,
                                                parameters: config.resolvedParameters(serial: settings.serial, mac: settings.mac),
                                                pending: pending, stepTimeout: config.stepTimeout),
                               connection)
    }

    /// The CSR of a device key in a file: the pending one, else a new one kept (0600) before the
    /// CSR leaves, so a certificate issued for it can never outlive it.
    private func fileCSR(_ type: ProvisioningConfig.KeyType) throws(ProvisioningError) -> String {
        do {
            var key = try store.pendingKeyPEM()
            if key == nil {
                let made = try DeviceKeys.generateKey(type == .rsa2048 ? .rsa(bits: 2048) : .ecP256)
                try store.storePendingKey(made)
                key = made
                logger.info("made the \(store.slot == .rotation ? "next " : "")device key (\(type.rawValue)); it never leaves the device")
                if store.slot == .rotation { CrashPoint.reached("rotation-key") }
            }
            return try DeviceKeys.certificateSigningRequest(keyPEM: key!, commonName: settings.serial)
        } catch let error as CredentialStoreError {
            throw .credentials(error)
        } catch {
            throw .setup("\(error)")
        }
    }

    /// The CSR of the device key in the token: the pending one when a run before this one made
    /// it (or named it and stopped before making it), else a new one. The key's URI is recorded
    /// before the key is made, so the token never holds a key that nothing names.
    private func tokenCSR(_ configured: PKCS11URI, type: ProvisioningConfig.KeyType) throws(ProvisioningError) -> String {
        do {
            var uri = try store.pendingKeyReferenceURI().flatMap { try? PKCS11URI(parsing: $0) }
            if uri == nil {
                uri = configured.with(id: TokenKeys.newID())
                try store.storePendingKeyReference(uri!.description)
            }
            let key = uri!
            if try !TokenKeys.hasKey(key) {
                _ = try TokenKeys.generateKey(key, type == .rsa2048 ? .rsa(bits: 2048) : .ecP256)
                logger.info("made the \(store.slot == .rotation ? "next " : "")device key (\(type.rawValue)) in the token \"\(key.token)\"; it never leaves it")
                if store.slot == .rotation { CrashPoint.reached("rotation-key") }
            }
            return try TokenKeys.certificateSigningRequest(key, commonName: settings.serial)
        } catch let error as CredentialStoreError {
            throw .credentials(error)
        } catch let error as TokenKeys.TokenError {
            throw .token(error)
        } catch {
            throw .setup("\(error)")
        }
    }

    private func drive(_ initial: ProvisioningFlow, _ connection: MQTTConnection) async throws(ProvisioningError) -> ProvisioningResult {
        var flow = initial
        var backoff = self.backoff
        let (inputs, feed) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        let forwarder = Task {
            for await event in connection.events { feed.yield(.mqtt(event)) }
            feed.finish()
        }
        defer { forwarder.cancel() }
        connection.start()

        var subscription: Int32?
        let credential = store.slot == .rotation ? "the device certificate" : "the claim certificate"
        var queue: [ProvisioningFlow.Event] = [.start(now: Self.now())]
        var iterator = inputs.makeAsyncIterator()
        while true {
            while !queue.isEmpty {
                let event = queue.removeFirst()
                for action in flow.handle(event) {
                    switch action {
                    case .connectWithClaim:
                        if connection.isConnected { queue.append(.connected) }
                    case .subscribe(let topics):
                        switch connection.subscribe(topics) {
                        case .success(let id): subscription = id
                        case .failure: queue.append(.disconnected(reason: "not connected when subscribing"))
                        }
                    case .publish(let topic, let payload):
                        if case .failure(let error) = connection.publish(topic: topic, payload: payload) {
                            queue.append(.disconnected(reason: "publish failed: \(error)"))
                        }
                    case .startTimer(let generation, let duration):
                        Task {
                            try? await Task.sleep(for: duration)
                            feed.yield(.flow(.timeout(generation: generation)))
                        }
                    case .storePending(let pending):
                        do { try store.storePending(pending) } catch { throw .credentials(error) }
                        CrashPoint.reached(store.slot == .rotation ? "rotation-certificate" : "provisioning-certificate")
                        queue.append(.stored)
                    case .discardPending:
                        do { try store.discardPending() } catch { throw .credentials(error) }
                    case .complete(let result):
                        try finish(result)
                        return result
                    case .retry(let reason):
                        let delay = backoff.nextDelay()
                        logger.warning("provisioning: \(reason); trying again in \(JSONNumber.fixed(delay.seconds, 2)) s")
                        Task {
                            try? await Task.sleep(for: delay)
                            feed.yield(.flow(.start(now: Self.now())))
                        }
                    case .fail(let failure):
                        logger.error("provisioning failed: \(failure)")
                        throw .rejected(failure)
                    case .log(let text):
                        logger.info("provisioning: \(text)")
                    }
                }
            }
            guard let input = await iterator.next() else { throw .cancelled }
            switch input {
            case .flow(let event):
                queue.append(event)
            case .mqtt(.connected):
                logger.info("connected with \(credential)")
                queue.append(.connected)
            case .mqtt(.subscribed(let id, let granted)) where id == subscription:
                if granted.contains(where: { $0 >= 0x80 }) {
                    let text = "the broker refused the subscription to the provisioning replies: check the policy of \(credential)"
                    logger.error("provisioning failed: \(text)")
                    throw .setup(text)
                }
                queue.append(.subscribed)
            case .mqtt(.message(let topic, let payload)):
                queue.append(.message(topic: topic, payload: payload))
            case .mqtt(.disconnected(let reason)):
                logger.warning("connection with \(credential) lost: \(reason)")
                queue.append(.disconnected(reason: reason))
            case .mqtt(.connectionFailed(let reason)):
                logger.error("cannot connect with \(credential): \(reason)")
            case .mqtt(.retrying(let delay)):
                logger.info("reconnecting with \(credential) in \(JSONNumber.fixed(delay.seconds, 2)) s")
            default:
                break
            }
        }
    }

    /// The issued certificate must belong to the key we hold before it replaces anything.
    private func finish(_ result: ProvisioningResult) throws(ProvisioningError) {
        do {
            let matches: Bool
            if let reference = try store.pendingKeyReferenceURI(), let uri = try? PKCS11URI(parsing: reference),
               let pending = try store.loadPending() {
                matches = TokenKeys.pair(certificatePEM: pending.certificatePem, key: uri) == .matching
            } else if let key = try store.pendingKeyPEM(), let pending = try store.loadPending() {
                matches = DeviceKeys.certificate(pending.certificatePem, matches: key) == true
            } else {
                matches = false
            }
            guard matches else {
                throw ProvisioningError.setup("the issued certificate does not match the device key; provisioning starts over at the next start")
            }
            try store.promote(result)
            // The CA that vouches for the broker, kept beside the certificate it belongs with.
            if let ca = try CredentialStore.read(settings.caFile) {
                try CredentialStore.write(ca, to: store.promotedDirectory + "/ca.pem", mode: 0o644)
            }
        } catch let error as CredentialStoreError {
            throw .credentials(error)
        } catch let error as ProvisioningError {
            throw error
        } catch {
            throw .setup("\(error)")
        }
        if store.slot == .rotation {
            CrashPoint.reached("rotation-registered")
            logger.info("rotation: RegisterThing accepted the new certificate \(result.certificateId) for \(result.thingName)",
                        metadata: ["event": "certificate-issued", "thing": "\(result.thingName)", "certificate_id": "\(result.certificateId)"])
            return
        }
        logger.info("provisioned as \(result.thingName) (certificate \(result.certificateId))",
                    metadata: ["event": "provisioned", "thing": "\(result.thingName)", "certificate_id": "\(result.certificateId)"])
        if settings.provisioning.forgetClaim {
            var files = [settings.provisioning.claimCert]
            switch settings.provisioning.claimKeyStorage {
            case .file:
                files.append(settings.provisioning.claimKey)
            case .token(let uri):
                do { try TokenKeys.destroyKey(uri) } catch {
                    logger.warning("cannot remove the claim key from the token: \(error)")
                }
            }
            for path in files where unlink(path) != 0 && errno != ENOENT {
                logger.warning("cannot remove the claim file \(path): \(String(cString: strerror(errno)))")
            }
            logger.info("removed the claim certificate and key (forget_claim = true)")
        }
    }

    static func now() -> UTCTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTimestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
