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
    /// Each zone's bounding box: with thousands of zones, most fixes are far from most of them.
    private let bounds: [(minLatitude: Double, maxLatitude: Double, minLongitude: Double, maxLongitude: Double)?]
    /// Per zone, by index: arrays, not dictionaries, because with thousands of zones the
    /// per-fix work must be a few comparisons per zone, not a string hash.
    private var states: [ZoneState?]
    private var streaks: [Int]
    private let indexByName: [String: Int]
    public private(set) var lastTime: UTCTimestamp?
    /// A zone's first state is announced (OnEnter) when it is InBoundary, and, when this is
    /// true, also when it is OutOfBoundary, as the original design's detector did. A job's zone
    /// set of thousands of sites sets it false: "outside 9,999 sites" is no news.
    public var announcesInitialOutside = true

    public init(zones: [Zone], restored: [String: SavedState] = [:], lastTime: UTCTimestamp? = nil) {
        self.zones = zones
        self.bounds = zones.map(\.shape.boundingBox)
        self.lastTime = lastTime
        states = zones.map { zone in
            restored[zone.name].flatMap { $0.fingerprint == zone.fingerprint ? $0.state : nil }
        }
        streaks = Array(repeating: 0, count: zones.count)
        indexByName = Dictionary(zones.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
    }

    public func state(of zone: String) -> ZoneState? { indexByName[zone].flatMap { states[$0] } }

    /// What to save: every zone's state with the definition it belongs to.
    public var saved: [String: SavedState] {
        var out: [String: SavedState] = [:]
        for (index, zone) in zones.enumerated() {
            if let state = states[index] { out[zone.name] = SavedState(state: state, fingerprint: zone.fingerprint) }
        }
        return out
    }

    public mutating func evaluate(_ fix: Fix) -> [GeofenceEvent] {
        guard fix.hasPosition, let latitude = fix.latitude, let longitude = fix.longitude, let time = fix.time else { return [] }
        if let lastTime, time <= lastTime { return [] }
        lastTime = time
        let point = GeoPoint(latitude: latitude, longitude: longitude)
        var events: [GeofenceEvent] = []
        for index in zones.indices {
            let current = states[index]
            // The common case with many zones: far outside one already known to be left.
            if current == .outOfBoundary, streaks[index] == 0, let box = bounds[index],
               latitude < box.minLatitude || latitude > box.maxLatitude || longitude < box.minLongitude || longitude > box.maxLongitude,
               zones[index].notify == .transitions {
                continue
            }
            let zone = zones[index]
            if zone.maxHDOP > 0, let hdop = fix.hdop, hdop > zone.maxHDOP { continue }
            let inside: Bool
            if let box = bounds[index], latitude < box.minLatitude || latitude > box.maxLatitude
                || longitude < box.minLongitude || longitude > box.maxLongitude {
                inside = false
            } else {
                inside = zone.shape.contains(point)
            }
            let observed: ZoneState = inside ? .inBoundary : .outOfBoundary
            guard let current else {
                states[index] = observed
                if observed == .outOfBoundary && !announcesInitialOutside { continue }
                events.append(GeofenceEvent(zone: zone.name, kind: .onEnter, state: observed, position: point, time: time))
                if zone.notify == .everyFix {
                    events.append(GeofenceEvent(zone: zone.name, kind: .onInput, state: observed, position: point, time: time))
                }
                continue
            }
            var state = current
            if observed != current {
                let farEnough = zone.hysteresis <= 0 || zone.shape.distanceToBoundary(point) >= zone.hysteresis
                let streak = farEnough ? streaks[index] + 1 : 0
                if streak >= zone.minConsecutive {
                    events.append(GeofenceEvent(zone: zone.name, kind: .onExit, state: current, position: point, time: time))
                    events.append(GeofenceEvent(zone: zone.name, kind: .onEnter, state: observed, previous: current,
                                                position: point, time: time))
                    states[index] = observed
                    state = observed
                    streaks[index] = 0
                } else {
                    streaks[index] = streak
                }
            } else {
                streaks[index] = 0
            }
            if zone.notify == .everyFix {
                events.append(GeofenceEvent(zone: zone.name, kind: .onInput, state: state, position: point, time: time))
            }
        }
        return events
    }
}
