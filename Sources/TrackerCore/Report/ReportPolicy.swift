/// When a fix is worth a message (`[report]`): the rules of a commercial fleet tracker, with
/// defaults for a delivery van.
public struct ReportPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Time, distance, heading, stop/move and heartbeat rules.
        case adaptive
        /// Every fix, as the original design's cloud-side detector consumed them.
        case everyFix = "every-fix"
    }

    public var mode = Mode.adaptive
    /// At most this long between published fixes while moving.
    public var movingInterval: Duration = .seconds(60)
    /// Publish after moving this far since the last published fix; 0 = off.
    public var minDistance = 0.0
    /// Publish at a turn: the course changed this much since the last published fix; 0 = off.
    public var headingChange = 30.0
    /// Below this speed for `stopAfter`, the vehicle is stopped.
    public var stopSpeed = 1.0
    public var stopAfter: Duration = .seconds(120)
    /// One heartbeat fix this often while stopped.
    public var stoppedInterval: Duration = .seconds(1800)
    /// Over this speed for `overspeedAfter` is an overspeed; 0 = off (a zone may set its own).
    public var overspeed = 0.0
    public var overspeedAfter: Duration = .seconds(10)

    /// The receiver's course means something above this speed (below it, it wanders).
    public var headingSpeed: Double { max(2.0, 2 * stopSpeed) }

    public init() {}
}
