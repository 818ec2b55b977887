/// GNS: the multi-constellation GGA, with one mode indicator character per constellation.
public struct GNSSentence: Sendable, Equatable {
    public var timeOfDay: Int?
    public var latitude: Double?
    public var longitude: Double?
    public var modeIndicators: Substring
    public var satellitesUsed: Int?
    public var hdop: Double?
    public var altitudeMSL: Double?
    public var geoidSeparation: Double?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        timeOfDay = try NMEAField.timeOfDay(s[0])
        latitude = try NMEAField.latitude(s[1], s[2])
        longitude = try NMEAField.longitude(s[3], s[4])
        modeIndicators = s[5]
        satellitesUsed = try NMEAField.int(s[6], "satellites used", FixRanges.satellites)
        hdop = try NMEAField.double(s[7], "HDOP", FixRanges.dilution)
        altitudeMSL = try NMEAField.double(s[8], "altitude", FixRanges.altitude)
        geoidSeparation = try NMEAField.double(s[9], "geoid separation", FixRanges.geoidSeparation)
    }

    /// Valid when any constellation has a solution (any indicator other than `N`).
    public var hasPosition: Bool {
        modeIndicators.contains(where: { $0 != "N" }) && latitude != nil && longitude != nil
    }

    /// The best quality any constellation reports.
    public var quality: FixQuality? {
        let order: [FixQuality] = [.rtkFixed, .rtkFloat, .dgps, .gps, .pps, .estimated, .manual, .simulated]
        let qualities = modeIndicators.compactMap(FixQuality.init(modeIndicator:))
        return order.first(where: qualities.contains)
    }
}
