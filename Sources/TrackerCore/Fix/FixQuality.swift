/// How the position was obtained: GGA's quality digit, or the mode indicator of RMC/GNS/GLL.
public enum FixQuality: String, Sendable, CaseIterable {
    case gps
    case dgps
    case pps
    case rtkFixed = "rtk-fixed"
    case rtkFloat = "rtk-float"
    case estimated
    case manual
    case simulated

    /// GGA field 6. 0 (invalid) has no quality.
    public init?(ggaQuality: Int) {
        switch ggaQuality {
        case 1: self = .gps
        case 2: self = .dgps
        case 3: self = .pps
        case 4: self = .rtkFixed
        case 5: self = .rtkFloat
        case 6: self = .estimated
        case 7: self = .manual
        case 8: self = .simulated
        default: return nil
        }
    }

    /// The NMEA 2.3+ mode indicator. `N` (not valid) has no quality.
    public init?(modeIndicator: Character) {
        switch modeIndicator {
        case "A": self = .gps
        case "D": self = .dgps
        case "P": self = .gps
        case "R": self = .rtkFixed
        case "F": self = .rtkFloat
        case "E": self = .estimated
        case "M": self = .manual
        case "S": self = .simulated
        default: return nil
        }
    }

    /// The 95% user-equivalent range error behind our horizontal error estimate. The
    /// autonomous and differential figures are gpsd's (so our estimate is comparable with its
    /// `eph`); RTK is centimetre-class by definition.
    var rangeError: Double {
        switch self {
        case .dgps: 4.75
        case .rtkFixed: 0.05
        case .rtkFloat: 0.5
        default: 19.0
        }
    }
}
