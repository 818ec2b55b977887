/// A named geofence and how strictly its state changes.
public struct Zone: Sendable, Equatable {
    public enum Notify: String, Sendable {
        /// Events only when the state changes.
        case transitions
        /// Also an OnInput event for every fix, as the original detector model emitted.
        case everyFix = "every-fix"
    }

    public var name: String
    public var shape: ZoneShape
    /// A fix must be this many metres inside/outside to change the state.
    public var hysteresis: Double
    /// ...and this many qualifying fixes in a row.
    public var minConsecutive: Int
    /// Fixes with a worse HDOP are ignored (0: no limit).
    public var maxHDOP: Double
    public var notify: Notify
    /// A speed limit inside the zone (m/s): over it is an overspeed naming the zone.
    public var maxSpeed: Double?

    public init(name: String, shape: ZoneShape, hysteresis: Double = 0, minConsecutive: Int = 1, maxHDOP: Double = 0,
                notify: Notify = .transitions, maxSpeed: Double? = nil) {
        self.maxSpeed = maxSpeed
        self.name = name
        self.shape = shape
        self.hysteresis = hysteresis
        self.minConsecutive = minConsecutive
        self.maxHDOP = maxHDOP
        self.notify = notify
    }

    /// Changes whenever the definition changes, so a stored state of an older definition is dropped.
    public var fingerprint: String {
        "\(shape)|\(hysteresis)|\(minConsecutive)|\(maxHDOP)"
    }
}
