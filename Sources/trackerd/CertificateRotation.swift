#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerCrypto
import TrackerMQTT
import TrackerProvisioning
import TrackerStorage
import TrackerSystem

/// Renewing the device certificate `[credentials] rotate_before_days` before it expires, or when
/// a rotate-certificate job asked: a new key (in the token when the device key is there), a
/// certificate for it over the device's own connection (CreateCertificateFromCsr and
/// RegisterThing with the provisioning template), a connection made with the new pair, and only
/// then the switch (one atomic rewrite of provisioning.json) and the old pair's removal.
///
/// A crash at any step leaves a pair that connects: until the switch the old pair is untouched
/// and in use; after it the new one has already connected once. The queue is not touched.
enum CertificateRotation {
    /// How long the rotation may hold up the start before the tracker goes on with the pair it has.
    static let deadline: Duration = .seconds(120)

    /// Set by a rotate-certificate job (see `request`), cleared once a rotation switched pairs.
    static func markerPath(_ storeDirectory: String) -> String { storeDirectory + "/rotation/requested" }

    static func request(storeDirectory: String) throws(CredentialStoreError) {
        try CredentialStore.ensureDirectory(storeDirectory + "/rotation")
        try CredentialStore.write(Array("requested\n".utf8), to: markerPath(storeDirectory), mode: 0o600)
        unlink(failurePath(storeDirectory))
    }

    /// Why the rotation a job asked for failed (for the job's FAILED status), until the next request.
    static func failurePath(_ storeDirectory: String) -> String { storeDirectory + "/rotation/failed" }

    static func failure(storeDirectory: String) -> String? {
        (try? FileReader.readAll(failurePath(storeDirectory))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A job asked for a rotation on a tracker whose certificate is not its own to renew (no
    /// [provisioning]: the operator installed it): the job fails with that, once.
    static func refuseRequest(storeDirectory: String, logger: Logger) {
        guard access(markerPath(storeDirectory), F_OK) == 0 else { return }
        logger.error("a rotate-certificate job cannot be carried out: without [provisioning] the certificate is the one in [mqtt] cert_file")
        failed("this tracker has no [provisioning] section: its certificate ([mqtt] cert_file) is installed by an operator, not renewed from the cloud",
               storeDirectory: storeDirectory, requested: true, logger: logger)
    }

    /// A requested rotation that failed: said once (the job fails with it), not retried at every
    /// start; an expiry-driven one is retried at every start instead.
    private static func failed(_ reason: String, storeDirectory: String, requested: Bool, logger: Logger) {
        guard requested else { return }
        do {
            try CredentialStore.ensureDirectory(storeDirectory + "/rotation")
            try CredentialStore.write(Array(reason.utf8), to: failurePath(storeDirectory), mode: 0o600)
            unlink(markerPath(storeDirectory))
        } catch {
            logger.error("certificate rotation: \(error)")
        }
    }

    /// Runs what is due and says whether the pair in use changed.
    @discardableResult
    static func run(_ config: TrackerConfig, deviceID: String, record: ProvisioningResult, logger: Logger) async -> Bool {
        guard let provisioning = config.provisioning, let endpoint = config.mqtt.endpoint else { return false }
        let rotation: CredentialStore, store: CredentialStore
        do {
            store = try CredentialStore(directory: config.store.directory)
            rotation = try CredentialStore(directory: config.store.directory, slot: .rotation)
        } catch {
            logger.error("certificate rotation: \(error)")
            return false
        }
        let settings = FleetProvisioner.Settings(host: endpoint, port: config.mqtt.port, caFile: config.mqtt.caFile,
                                                 keepalive: config.mqtt.keepalive, alpn: config.mqtt.alpn, provisioning: provisioning,
                                                 serial: deviceID, mac: BoardMACAddress.read() ?? "00:00:00:00:00:00",
                                                 deviceKey: config.credentials.key)
        // A new pair from an earlier run, accepted and not yet switched to: try it first.
        if (try? rotation.nextRecord()) != nil {
            return await switchToNext(store: store, rotation: rotation, settings: settings, logger: logger)
        }
        let requested = access(markerPath(config.store.directory), F_OK) == 0
        let inProgress = (try? rotation.loadPending()) != nil || (try? rotation.pendingKeyPEM()) != nil
            || (try? rotation.pendingKeyReferenceURI()) != nil
        guard let certificate = try? FileReader.readAll(store.activeCertificate),
              let info = DeviceKeys.info(String(decoding: certificate, as: UTF8.self)) else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let renewal = CertificateLifetime(notBefore: info.notBefore, notAfter: info.notAfter)
            .renewal(now: Int64(now.tv_sec), beforeDays: config.credentials.rotateBeforeDays)
        switch renewal {
        case .due(let days):
            logger.notice("the device certificate \(info.certificateId) expires in \(JSONNumber.fixed(days, 1)) days (rotate_before_days = \(config.credentials.rotateBeforeDays)): renewing it",
                          metadata: ["event": "certificate-rotation", "certificate_id": "\(info.certificateId)"])
        case .notDue where requested || inProgress:
            logger.notice("renewing the device certificate \(info.certificateId) (\(requested ? "a job asked" : "a rotation was under way"))",
                          metadata: ["event": "certificate-rotation", "certificate_id": "\(info.certificateId)"])
        case .expired:
            let reason = "the device certificate \(info.certificateId) has expired: it cannot ask for a new one; remove \(store.recordPath) to provision again with the claim certificate"
            logger.error("\(reason)")
            failed(reason, storeDirectory: config.store.directory, requested: requested, logger: logger)
            return false
        case .notDue, .clockNotSet:
            return false
        }
        if !inProgress { removePair(store.nextIdentityName, store: store, logger: logger) }
        let keyFile: String
        do { keyFile = try store.activeKeyLocation() } catch {
            logger.error("certificate rotation: \(error)")
            return false
        }
        let provisioner = FleetProvisioner(settings: settings, store: rotation, logger: logger,
                                           backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax))
        let outcome = await Deadline.run(within: deadline) { () async -> Result<ProvisioningResult, FleetProvisioner.ProvisioningError>? in
            do throws(FleetProvisioner.ProvisioningError) {
                return .success(try await provisioner.rotate(certificateFile: store.activeCertificate, keyFile: keyFile,
                                                             thingName: record.thingName))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success:
            return await switchToNext(store: store, rotation: rotation, settings: settings, logger: logger)
        case .failure(let error):
            logger.error("certificate rotation failed: \(error); going on with the certificate in use\(requested ? "" : ", and trying again at the next start")")
            failed("\(error)", storeDirectory: config.store.directory, requested: requested, logger: logger)
        case nil:
            logger.warning("certificate rotation did not finish within \(deadline.components.seconds) s; going on with the certificate in use, and trying again at the next start")
        }
        return false
    }

    /// Connects once with the new pair; only when that works, provisioning.json names it and the
    /// old pair goes (its key destroyed in the token when it was there).
    private static func switchToNext(store: CredentialStore, rotation: CredentialStore, settings: FleetProvisioner.Settings,
                                     logger: Logger) async -> Bool {
        guard let next = try? rotation.nextRecord() else { return false }
        let name = next.credentials ?? "device"
        guard store.hasPair(identity: name), let key = store.keyLocation(identity: name) else {
            // The record was written and the pair never moved (a crash in between): the pending
            // RegisterThing is repeated by the next rotation.
            try? rotation.discardNext()
            return false
        }
        let certificate = store.directory + "/" + name + "/" + CredentialStore.certificateName
        let trial = MQTTSettings(host: settings.host, port: settings.port, caFile: settings.caFile, certFile: certificate, keyFile: key,
                                 clientID: next.thingName, keepalive: settings.keepalive, alpn: settings.alpn)
        switch await tryConnecting(trial, logger: logger) {
        case .some(let reason):
            logger.warning("the new certificate \(next.certificateId) did not connect (\(reason)); the certificate in use stays, and the new one is tried again at the next start")
            return false
        case .none:
            CrashPoint.reached("rotation-trial")
        }
        let old = store.identityName
        let oldRecord = try? store.activeRecord()
        do {
            try store.commitNext()
            CrashPoint.reached("rotation-switched")
            removePair(old, store: store, logger: logger)
            try rotation.discardPending()
            let marker = markerPath(store.directory)
            if unlink(marker) != 0 && errno != ENOENT { logger.warning("cannot remove \(marker): \(String(cString: strerror(errno)))") }
        } catch {
            logger.error("certificate rotation: \(error)")
        }
        logger.notice("rotated the device certificate: now \(next.certificateId), which connected; \(oldRecord?.certificateId ?? "the old one") is no longer used",
                      metadata: ["event": "certificate-rotated", "certificate_id": "\(next.certificateId)",
                                 "old_certificate_id": "\(oldRecord?.certificateId ?? "")"])
        return true
    }

    /// nil once connected; else why not (the first failure, or no answer within 30 s).
    private static func tryConnecting(_ settings: MQTTSettings, logger: Logger) async -> String? {
        let connection: MQTTConnection
        do { connection = try MQTTConnection(settings: settings, logger: logger) } catch { return "\(error)" }
        connection.start()
        let outcome = await Deadline.run(within: .seconds(30)) { () async -> String? in
            for await event in connection.events {
                if case .connected = event { return "" }
                if case .connectionFailed(let why) = event { return why }
            }
            return "the connection ended"
        }
        await connection.shutdown()
        guard let outcome else { return "no answer within 30 s" }
        return outcome.isEmpty ? nil : outcome
    }

    /// The pair in `name`, which is not the one in use: its key destroyed in the token when it
    /// was there, its files removed. After a switch, and for what a rotation that finished (or
    /// failed) long ago left in the other directory.
    private static func removePair(_ name: String, store: CredentialStore, logger: Logger) {
        if let key = store.keyLocation(identity: name), let uri = try? PKCS11URI(parsing: key) {
            do { try TokenKeys.destroyKey(uri) } catch { logger.warning("cannot remove an old key from the token: \(error)") }
        }
        do { try store.removeIdentity(name) } catch { logger.warning("certificate rotation: \(error)") }
    }
}
