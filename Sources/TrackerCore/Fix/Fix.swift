/// One receiver cycle's solution: what trackerd logs, evaluates and publishes.
/// A field is `nil` when the receiver did not say; a no-fix never carries a position.
public struct Fix: Sendable, Equatable {
    /// UTC time of the cycle; `nil` until the receiver has sent a date (RMC or ZDA).
    public var time: UTCTimestamp?
    public var mode: FixMode
    public var quality: FixQuality?
    public var latitude: Double?
    public var longitude: Double?
    /// Metres above mean sea level (the geoid).
    public var altitudeMSL: Double?
    /// Geoid height above the WGS84 ellipsoid, metres.
    public var geoidSeparation: Double?
    public var satellitesUsed: Int?
    public var hdop: Double?
    public var pdop: Double?
    public var vdop: Double?
    /// Speed over ground, m/s.
    public var speed: Double?
    /// Course over ground, degrees true.
    public var track: Double?
    /// Estimated horizontal error, metres, 95 % confidence.
    public var horizontalError: Double?

    public init(time: UTCTimestamp? = nil, mode: FixMode, quality: FixQuality? = nil,
                latitude: Double? = nil, longitude: Double? = nil, altitudeMSL: Double? = nil,
                geoidSeparation: Double? = nil, satellitesUsed: Int? = nil, hdop: Double? = nil,
                pdop: Double? = nil, vdop: Double? = nil, speed: Double? = nil, track: Double? = nil,
                horizontalError: Double? = nil) {
        self.time = time
        self.mode = mode
        self.quality = quality
        self.latitude = latitude
        self.longitude = longitude
        self.altitudeMSL = altitudeMSL
        self.geoidSeparation = geoidSeparation
        self.satellitesUsed = satellitesUsed
        self.hdop = hdop
        self.pdop = pdop
        self.vdop = vdop
        self.speed = speed
        self.track = track
        self.horizontalError = horizontalError
    }

    /// A 2D or 3D fix with a position.
    public var hasPosition: Bool { mode >= .twoD && latitude != nil && longitude != nil }

    /// One line for an operator's log: `3D 10.150023,10.150027 alt 42.0 m 24.9 m/s 9 sats hdop 0.9`.
    public var summary: String {
        var parts = [mode.description]
        if let latitude, let longitude {
            parts.append("\(JSONNumber.fixed(latitude, 6)),\(JSONNumber.fixed(longitude, 6))")
        }
        if let altitudeMSL { parts.append("alt \(JSONNumber.fixed(altitudeMSL, 1)) m") }
        if let speed { parts.append("\(JSONNumber.fixed(speed, 1)) m/s") }
        if let satellitesUsed { parts.append("\(satellitesUsed) sats") }
        if let hdop { parts.append("hdop \(JSONNumber.fixed(hdop, 1))") }
        if let time { parts.append("at \(time.iso8601)") }
        return parts.joined(separator: " ")
    }
}
