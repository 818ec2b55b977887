/// Decides which fixes are worth publishing: `min_interval_s` and `min_distance_m` since the
/// last published fix; a fix is published when either is reached. The first fix, and the first
/// after a loss, are always published. Both at 0 publish every fix.
public struct PublishRateLimiter: Sendable {
    public let minInterval: Duration
    public let minDistance: Double
    private var last: Fix?

    public init(minInterval: Duration, minDistance: Double) {
        self.minInterval = minInterval
        self.minDistance = minDistance
    }

    /// Call for each fix that `FixLossDetector` passed on; `afterLoss` for the regained one.
    public mutating func shouldPublish(_ fix: Fix, afterLoss: Bool) -> Bool {
        guard fix.hasPosition else { return false }
        guard let last, !afterLoss else {
            self.last = fix
            return true
        }
        let elapsed: Duration = {
            guard let now = fix.time, let then = last.time else { return .seconds(Int64.max / 4) }
            return .milliseconds(now.millisecondsSinceEpoch - then.millisecondsSinceEpoch)
        }()
        let moved = GreatCircle.distance(latitude1: last.latitude!, longitude1: last.longitude!,
                                         latitude2: fix.latitude!, longitude2: fix.longitude!)
        let intervalReached = elapsed >= minInterval
        let distanceReached = minDistance > 0 && moved >= minDistance
        guard intervalReached || distanceReached else { return false }
        self.last = fix
        return true
    }
}
