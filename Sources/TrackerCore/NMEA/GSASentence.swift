/// GSA: the receiver's own 1/2/3 fix mode, the satellites used and the DOPs.
/// Multi-constellation receivers send one GSA per system in each cycle.
public struct GSASentence: Sendable, Equatable {
    public var mode: Int?
    public var satellitesUsed: Int
    public var pdop: Double?
    public var hdop: Double?
    public var vdop: Double?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        mode = try NMEAField.int(s[1], "GSA mode", 1...3)
        satellitesUsed = (2..<14).reduce(0) { $0 + (s[$1].isEmpty ? 0 : 1) }
        pdop = try NMEAField.double(s[14], "PDOP", FixRanges.dilution)
        hdop = try NMEAField.double(s[15], "HDOP", FixRanges.dilution)
        vdop = try NMEAField.double(s[16], "VDOP", FixRanges.dilution)
    }
}
