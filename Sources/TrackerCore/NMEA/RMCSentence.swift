/// RMC: time, date, status, position, speed and course over ground.
public struct RMCSentence: Sendable, Equatable {
    public var timeOfDay: Int?
    public var isValid: Bool
    public var latitude: Double?
    public var longitude: Double?
    public var speedKnots: Double?
    public var course: Double?
    public var date: CivilDate?
    public var modeIndicator: Character?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        timeOfDay = try NMEAField.timeOfDay(s[0])
        modeIndicator = NMEAField.character(s[11])
        isValid = s[1] == "A" && modeIndicator != "N"
        latitude = try NMEAField.latitude(s[2], s[3])
        longitude = try NMEAField.longitude(s[4], s[5])
        speedKnots = try NMEAField.double(s[6], "speed", FixRanges.speedKnots)
        course = try NMEAField.double(s[7], "course", FixRanges.course)
        date = try NMEAField.date(s[8])
    }

    public var hasPosition: Bool { isValid && latitude != nil && longitude != nil }
}
