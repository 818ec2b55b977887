/// VTG: course and speed over ground. Both the NMEA 2.x layout (`054.7,T,034.4,M,005.5,N,010.2,K,A`)
/// and the older one without unit letters (`054.7,034.4,005.5,010.2`) are read.
public struct VTGSentence: Sendable, Equatable {
    public var course: Double?
    public var speedKnots: Double?
    public var isValid: Bool

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        if s[1] == "T" || s[3] == "M" || s[5] == "N" {
            course = try NMEAField.double(s[0], "course", FixRanges.course)
            speedKnots = try NMEAField.double(s[4], "speed", FixRanges.speedKnots)
            isValid = NMEAField.character(s[8]) != "N"
        } else {
            course = try NMEAField.double(s[0], "course", FixRanges.course)
            speedKnots = try NMEAField.double(s[2], "speed", FixRanges.speedKnots)
            isValid = true
        }
    }
}
