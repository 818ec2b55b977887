/// TrackerCore: everything trackerd decides, as pure Swift values and state machines.
///
/// NMEA framing, sentences and the epoch assembler that turns a receiver cycle into one `Fix`;
/// fix freshness; reconnect backoff; the TOML reader and `TrackerConfig` with its validation.
/// Nothing here does I/O or imports a C library, so every rule is tested with plain unit tests.
/// Adapters (GPSSources, TrackerSystem) feed it bytes and clock readings and act on what it returns.
public enum TrackerCore {
    /// The version printed by `trackerd --version`.
    public static let version = "0.1.0"
}
