/// GLL: position and time, with a status.
public struct GLLSentence: Sendable, Equatable {
    public var latitude: Double?
    public var longitude: Double?
    public var timeOfDay: Int?
    public var isValid: Bool
    public var modeIndicator: Character?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        latitude = try NMEAField.latitude(s[0], s[1])
        longitude = try NMEAField.longitude(s[2], s[3])
        timeOfDay = try NMEAField.timeOfDay(s[4])
        modeIndicator = NMEAField.character(s[6])
        isValid = s[5] == "A" && modeIndicator != "N"
    }

    public var hasPosition: Bool { isValid && latitude != nil && longitude != nil }
}
