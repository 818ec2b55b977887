/// TrackerCore: everything trackerd decides, as pure Swift values and state machines.
///
/// NMEA framing, sentences and the epoch assembler that turns a receiver cycle into one `Fix`;
/// fix freshness; reconnect backoff; the outbound queue and payloads; the fleet-provisioning
/// protocol (`ProvisioningFlow`); the TOML reader and `TrackerConfig` with its validation.
/// Nothing here does I/O or imports a C library (FoundationEssentials only for the JSON of the
/// provisioning messages), so every rule is tested with plain unit tests.
/// Adapters (GPSSources, TrackerSystem) feed it bytes and clock readings and act on what it returns.
public enum TrackerCore {
    /// The version printed by `trackerd --version`.
    public static let version = "0.1.0"
}
