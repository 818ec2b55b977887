import Logging
import TrackerCore
import TrackerCrypto

/// The PKCS#11 token of `[credentials]`, opened once at start (before any thread does TLS) when
/// the configuration keeps a key there: the device key, the claim key, or both.
enum TokenAccess {
    static func open(_ config: TrackerConfig, logger: Logger) throws {
        guard CredentialsConfig.usesToken(config), let module = config.credentials.pkcs11Module,
              let pinFile = config.credentials.pinFile else { return }
        do {
            try TokenKeys.open(module: module, pinFile: pinFile)
        } catch {
            logger.critical("credentials: \(error)")
            throw ExitStatus.credentials
        }
        logger.info("keys in a PKCS#11 token through \(module)")
    }
}
