/// A sentence decoded by its formatter, whatever the talker.
public enum NMEAMessage: Sendable, Equatable {
    case gga(GGASentence)
    case rmc(RMCSentence)
    case gns(GNSSentence)
    case gll(GLLSentence)
    case gsa(GSASentence)
    case gsv(GSVSentence)
    case vtg(VTGSentence)
    case zda(ZDASentence)

    /// The formatters we decode; anything else is counted and ignored.
    public static let supportedFormatters: Set<Substring> = ["GGA", "RMC", "GNS", "GLL", "GSA", "GSV", "VTG", "ZDA"]

    /// `nil` for proprietary and unsupported sentences.
    public init?(_ sentence: NMEASentence) throws(NMEAFieldError) {
        if sentence.isProprietary { return nil }
        switch sentence.formatter {
        case "GGA": self = .gga(try GGASentence(sentence))
        case "RMC": self = .rmc(try RMCSentence(sentence))
        case "GNS": self = .gns(try GNSSentence(sentence))
        case "GLL": self = .gll(try GLLSentence(sentence))
        case "GSA": self = .gsa(try GSASentence(sentence))
        case "GSV": self = .gsv(try GSVSentence(sentence))
        case "VTG": self = .vtg(try VTGSentence(sentence))
        case "ZDA": self = .zda(try ZDASentence(sentence))
        default: return nil
        }
    }

    public var timeOfDay: Int? {
        switch self {
        case .gga(let m): m.timeOfDay
        case .rmc(let m): m.timeOfDay
        case .gns(let m): m.timeOfDay
        case .gll(let m): m.timeOfDay
        case .zda(let m): m.timeOfDay
        case .gsa, .gsv, .vtg: nil
        }
    }
}
