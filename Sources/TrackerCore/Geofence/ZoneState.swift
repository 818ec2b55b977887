/// The two states of the original detector model.
public enum ZoneState: String, Sendable, Codable, Equatable {
    case inBoundary = "InBoundary"
    case outOfBoundary = "OutOfBoundary"
}
