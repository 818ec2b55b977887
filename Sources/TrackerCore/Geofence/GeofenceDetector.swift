/// The on-device replacement of the original AWS IoT Events detector model: per zone,
/// InBoundary or OutOfBoundary.
///
/// The first valid fix sets each zone's state and emits its OnEnter. A change emits OnExit for
/// the old state, then OnEnter for the new one, once `minConsecutive` fixes in a row lie at
/// least `hysteresis` metres on the other side. No-fix cycles, fixes worse than `maxHDOP` and
/// fixes not later than the last one evaluated change nothing. States can be saved and
/// restored, so a reboot sends no duplicate notification; a zone whose definition changed
/// starts afresh.
public struct GeofenceDetector: Sendable {
    public struct SavedState: Sendable, Codable, Equatable {
        public var state: ZoneState
        public var fingerprint: String

        public init(state: ZoneState, fingerprint: String) {
            self.state = state
            self.fingerprint = fingerprint
        }
    }

    public let zones: [Zone]
    private var states: [String: ZoneState] = [:]
    private var streaks: [String: Int] = [:]
    public private(set) var lastTime: UTCTimestamp?

    public init(zones: [Zone], restored: [String: SavedState] = [:], lastTime: UTCTimestamp? = nil) {
        self.zones = zones
        self.lastTime = lastTime
        for zone in zones {
            if let saved = restored[zone.name], saved.fingerprint == zone.fingerprint { states[zone.name] = saved.state }
        }
    }

    public func state(of zone: String) -> ZoneState? { states[zone] }

    /// What to save: every zone's state with the definition it belongs to.
    public var saved: [String: SavedState] {
        var out: [String: SavedState] = [:]
        for zone in zones { if let state = states[zone.name] { out[zone.name] = SavedState(state: state, fingerprint: zone.fingerprint) } }
        return out
    }

    public mutating func evaluate(_ fix: Fix) -> [GeofenceEvent] {
        guard fix.hasPosition, let latitude = fix.latitude, let longitude = fix.longitude, let time = fix.time else { return [] }
        if let lastTime, time <= lastTime { return [] }
        lastTime = time
        let point = GeoPoint(latitude: latitude, longitude: longitude)
        var events: [GeofenceEvent] = []
        for zone in zones {
            if zone.maxHDOP > 0, let hdop = fix.hdop, hdop > zone.maxHDOP { continue }
            let inside = zone.shape.contains(point)
            let observed: ZoneState = inside ? .inBoundary : .outOfBoundary
            guard let current = states[zone.name] else {
                states[zone.name] = observed
                events.append(GeofenceEvent(zone: zone.name, kind: .onEnter, state: observed, position: point, time: time))
                if zone.notify == .everyFix {
                    events.append(GeofenceEvent(zone: zone.name, kind: .onInput, state: observed, position: point, time: time))
                }
                continue
            }
            var state = current
            if observed != current {
                let farEnough = zone.hysteresis <= 0 || zone.shape.distanceToBoundary(point) >= zone.hysteresis
                let streak = farEnough ? (streaks[zone.name] ?? 0) + 1 : 0
                if streak >= zone.minConsecutive {
                    events.append(GeofenceEvent(zone: zone.name, kind: .onExit, state: current, position: point, time: time))
                    events.append(GeofenceEvent(zone: zone.name, kind: .onEnter, state: observed, previous: current,
                                                position: point, time: time))
                    states[zone.name] = observed
                    state = observed
                    streaks[zone.name] = 0
                } else {
                    streaks[zone.name] = streak
                }
            } else {
                streaks[zone.name] = 0
            }
            if zone.notify == .everyFix {
                events.append(GeofenceEvent(zone: zone.name, kind: .onInput, state: state, position: point, time: time))
            }
        }
        return events
    }
}
