/// Where fixes come from.
public enum GPSSourceKind: String, Sendable, CaseIterable {
    /// A gpsd daemon, through libgps.
    case gpsd
    /// A UART or USB serial receiver speaking NMEA 0183, read directly.
    case serial
    /// A recorded NMEA file, at recorded speed or a factor of it.
    case replay
}
