/// Which fixes a fleet tracker publishes, and its trips, odometer and overspeeds: a parked van
/// says almost nothing, a moving one is drawn faithfully, turns included.
///
/// Everything runs on the fixes' own times, so `run` and `simulate` decide alike. Moving: a fix
/// every `movingInterval`, after `minDistance`, and at every turn of `headingChange`. Below
/// `stopSpeed` for `stopAfter`: stopped — the fix where it stopped is published (late, when the
/// stop is certain) with a TripEnd, then only a heartbeat every `stoppedInterval`; the first fix
/// over `stopSpeed` publishes and starts a trip. Drift while parked is never movement: nothing
/// but the heartbeat is published while stopped, and the odometer does not count it.
///
/// The odometer integrates the receiver's Doppler speed between fixes (trapezoids) while either
/// end moves: position differences would add the fixes' noise (3 m of jitter adds about 15 % at
/// city speed, and kilometres while parked). Across a gap of more than 10 s (a tunnel) the
/// straight line between the fixes is added.
public struct MotionReporter: Sendable {
    public enum Motion: String, Sendable {
        case stopped, moving
    }

    /// The fixes to publish now, in order (a stop found late comes first), and the events.
    public struct Decision: Sendable, Equatable {
        public var publish: [Fix] = []
        public var events: [MotionEvent] = []
    }

    /// Changed in place by the shadow: the motion state and odometer carry on.
    public var policy: ReportPolicy
    public private(set) var motion = Motion.stopped
    /// Metres travelled, all time (the caller keeps it across restarts).
    public private(set) var odometer: Double
    private var lastPublished: Fix?
    /// The course that a turn is measured from (the last published fix's, once it was moving fast enough).
    private var referenceCourse: Double?
    private var previous: (fix: Fix, speed: Double)?
    /// The first fix of the current slow spell while moving, the odometer there, and whether it
    /// was published already.
    private var slowSince: (fix: Fix, odometer: Double, published: Bool)?
    private var trip: (start: Fix, odometer: Double, maxSpeed: Double)?
    private var overspeed: (first: Fix, speed: Double, limit: Double, zone: String?, announced: Bool)?

    public init(policy: ReportPolicy, odometer: Double = 0) {
        self.policy = policy
        self.odometer = odometer
    }

    /// One fix with a position and a time, as the loss detector passed it on. `forced`: it is
    /// published whatever the rules say (the first fix, the first after a loss, one that caused
    /// a geofence event). `limit`: the speed limit where the fix is (a zone's, else the global
    /// one), if any.
    public mutating func report(_ fix: Fix, forced: Bool, limit: (speed: Double, zone: String?)? = nil) -> Decision {
        guard let time = fix.time, fix.hasPosition else { return Decision() }
        var decision = Decision()
        let speed = self.speed(of: fix)
        integrate(fix, speed: speed)
        var publishNow = forced || policy.mode == .everyFix

        // Stop and move.
        if speed >= policy.stopSpeed {
            slowSince = nil
            if motion == .stopped {
                motion = .moving
                trip = (fix, odometer, speed)
                decision.events.append(MotionEvent(kind: .tripStart, time: time, position: Self.point(fix)))
                publishNow = true
            }
            if let current = trip { trip = (current.start, current.odometer, max(current.maxSpeed, speed)) }
        } else if motion == .moving {
            if slowSince == nil { slowSince = (fix, odometer, publishNow) }
            if let (stop, stopOdometer, stopPublished) = slowSince, let stopTime = stop.time,
               Self.seconds(stopTime, time) >= policy.stopAfter.seconds {
                motion = .stopped
                slowSince = nil
                if !stopPublished {
                    decision.publish.append(stop)
                    published(stop)
                }
                if let trip, let startTime = trip.start.time {
                    decision.events.append(MotionEvent(kind: .tripEnd, time: stopTime, position: Self.point(stop),
                                                       distance: stopOdometer - trip.odometer,
                                                       duration: Self.seconds(startTime, stopTime), maxSpeed: trip.maxSpeed))
                }
                trip = nil
            }
        }

        // The rules for this fix.
        if !publishNow, let last = lastPublished, let lastTime = last.time {
            let elapsed = Self.seconds(lastTime, time)
            switch motion {
            case .moving where speed < policy.stopSpeed:
                // Standing (a traffic light, or a stop not yet certain): nothing new to draw.
                break
            case .moving:
                if elapsed >= policy.movingInterval.seconds { publishNow = true }
                if policy.minDistance > 0, Self.distance(last, fix) >= policy.minDistance { publishNow = true }
                if policy.headingChange > 0, speed >= policy.headingSpeed, let course = fix.track {
                    if let reference = referenceCourse {
                        if Self.angle(reference, course) >= policy.headingChange { publishNow = true }
                    } else {
                        referenceCourse = course
                    }
                }
            case .stopped:
                if elapsed >= policy.stoppedInterval.seconds { publishNow = true }
            }
        } else if lastPublished == nil {
            publishNow = true
        }
        if publishNow {
            decision.publish.append(fix)
            published(fix)
            if slowSince?.fix.time == time { slowSince?.published = true }
        }

        decision.events += overspeedEvents(fix, time: time, speed: speed, limit: limit)
        previous = (fix, speed)
        return decision
    }

    // MARK: -

    private mutating func published(_ fix: Fix) {
        lastPublished = fix
        referenceCourse = speed(of: fix) >= policy.headingSpeed ? fix.track : nil
    }

    /// The receiver's speed, or (without one) the distance from the previous fix over the time.
    private func speed(of fix: Fix) -> Double {
        if let speed = fix.speed { return speed }
        guard let (last, _) = previous, let t0 = last.time, let t1 = fix.time else { return 0 }
        let dt = Self.seconds(t0, t1)
        return dt > 0 ? Self.distance(last, fix) / dt : 0
    }

    private mutating func integrate(_ fix: Fix, speed: Double) {
        guard let (last, lastSpeed) = previous, let t0 = last.time, let t1 = fix.time else { return }
        let dt = Self.seconds(t0, t1)
        guard dt > 0, max(speed, lastSpeed) >= policy.stopSpeed else { return }
        odometer += dt <= 10 ? (speed + lastSpeed) / 2 * dt : Self.distance(last, fix)
    }

    private mutating func overspeedEvents(_ fix: Fix, time: UTCTimestamp, speed: Double,
                                          limit: (speed: Double, zone: String?)?) -> [MotionEvent] {
        var events: [MotionEvent] = []
        if let current = overspeed,
           !(limit.map { speed > $0.speed && current.limit == $0.speed && current.zone == $0.zone } ?? false) {
            if current.announced {
                events.append(MotionEvent(kind: .overspeedEnd, time: time, position: Self.point(fix), maxSpeed: current.limit,
                                          speed: speed, zone: current.zone))
            }
            overspeed = nil
        }
        guard let limit, limit.speed > 0, speed > limit.speed else { return events }
        if overspeed == nil { overspeed = (fix, speed, limit.speed, limit.zone, false) }
        if let current = overspeed, !current.announced, let firstTime = current.first.time,
           Self.seconds(firstTime, time) >= policy.overspeedAfter.seconds {
            overspeed?.announced = true
            events.append(MotionEvent(kind: .overspeedStart, time: firstTime, position: Self.point(current.first),
                                      maxSpeed: current.limit, speed: current.speed, zone: current.zone))
        }
        return events
    }

    static func point(_ fix: Fix) -> GeoPoint { GeoPoint(latitude: fix.latitude ?? 0, longitude: fix.longitude ?? 0) }

    static func seconds(_ from: UTCTimestamp, _ to: UTCTimestamp) -> Double {
        Double(to.millisecondsSinceEpoch - from.millisecondsSinceEpoch) / 1000
    }

    static func distance(_ a: Fix, _ b: Fix) -> Double {
        GreatCircle.distance(latitude1: a.latitude ?? 0, longitude1: a.longitude ?? 0, latitude2: b.latitude ?? 0, longitude2: b.longitude ?? 0)
    }

    /// The smaller angle between two courses, 0 to 180.
    static func angle(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 360)
        return d > 180 ? 360 - d : d
    }
}
