/// What the receiver solved for, numbered as gpsd's TPV `mode` (1 no fix, 2 2D, 3 3D).
public enum FixMode: Int, Sendable, Comparable, CustomStringConvertible {
    case noFix = 1
    case twoD = 2
    case threeD = 3

    public static func < (lhs: FixMode, rhs: FixMode) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .noFix: "no fix"
        case .twoD: "2D"
        case .threeD: "3D"
        }
    }
}
