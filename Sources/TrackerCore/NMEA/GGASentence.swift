/// GGA: time, position, fix quality, satellites used, HDOP, altitude and geoid separation.
public struct GGASentence: Sendable, Equatable {
    public var timeOfDay: Int?
    public var latitude: Double?
    public var longitude: Double?
    public var quality: Int?
    public var satellitesUsed: Int?
    public var hdop: Double?
    public var altitudeMSL: Double?
    public var geoidSeparation: Double?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        timeOfDay = try NMEAField.timeOfDay(s[0])
        latitude = try NMEAField.latitude(s[1], s[2])
        longitude = try NMEAField.longitude(s[3], s[4])
        quality = try NMEAField.int(s[5], "fix quality", FixRanges.ggaQuality)
        satellitesUsed = try NMEAField.int(s[6], "satellites used", FixRanges.satellites)
        hdop = try NMEAField.double(s[7], "HDOP", FixRanges.dilution)
        altitudeMSL = try NMEAField.double(s[8], "altitude", FixRanges.altitude)
        geoidSeparation = try NMEAField.double(s[10], "geoid separation", FixRanges.geoidSeparation)
    }

    /// Quality 0 means "fix not valid"; the position fields may still hold a stale position.
    public var hasPosition: Bool { (quality ?? 0) != 0 && latitude != nil && longitude != nil }
}
