import Logging
import TrackerCore
import TrackerProvisioning
import TrackerStorage
import TrackerSystem

/// First-boot provisioning as `run` and `provision` use it: the stored credentials when the
/// device has them, otherwise a fleet-provisioning run with the claim certificate.
enum DeviceProvisioning {
    /// The provisioning record; exits with the code that tells systemd not to restart when an
    /// operator has to act.
    static func ensure(_ config: TrackerConfig, deviceID: String, logger: Logger) async throws -> (ProvisioningResult, CredentialStore) {
        guard let provisioning = config.provisioning, let endpoint = config.mqtt.endpoint else {
            logger.error("configuration: provisioning needs a [provisioning] section and an [mqtt] endpoint")
            throw ExitStatus.configuration
        }
        let store: CredentialStore
        do {
            store = try CredentialStore(directory: config.store.directory)
        } catch {
            logger.error("credentials: \(error)")
            throw ExitStatus.credentials
        }
        let mac = BoardMACAddress.read() ?? "00:00:00:00:00:00"
        let provisioner = FleetProvisioner(
            settings: .init(host: endpoint, port: config.mqtt.port, caFile: config.mqtt.caFile, keepalive: config.mqtt.keepalive,
                            alpn: config.mqtt.alpn, provisioning: provisioning, serial: deviceID, mac: mac,
                            deviceKey: config.credentials.key),
            store: store, logger: logger,
            backoff: Backoff(base: config.mqtt.reconnectMin, cap: config.mqtt.reconnectMax))
        do {
            let result = try await provisioner.provision()
            return (result, store)
        } catch {
            switch error {
            case .rejected:
                logger.critical("provisioning was refused; trackerd stops until an operator fixes the cause above")
                throw ExitStatus.provisioningRejected
            case .credentials(let problem):
                logger.critical("credentials: \(problem)")
                throw ExitStatus.credentials
            case .token(let problem):
                logger.critical("credentials: \(problem)")
                throw ExitStatus.credentials
            case .setup(let text):
                logger.error("provisioning: \(text)")
                throw ExitCode.failure
            case .cancelled:
                throw ExitCode.failure
            }
        }
    }
}
