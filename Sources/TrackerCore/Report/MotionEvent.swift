/// A trip or overspeed event, published on `[mqtt] alerts_topic` through the queue and logged.
public struct MotionEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case tripStart = "TripStart"
        case tripEnd = "TripEnd"
        case overspeedStart = "OverspeedStart"
        case overspeedEnd = "OverspeedEnd"
    }

    public var kind: Kind
    /// TripStart: the first moving fix; TripEnd: where the vehicle stopped; OverspeedStart: the
    /// first fix over the limit; OverspeedEnd: the first at or below it.
    public var time: UTCTimestamp
    public var position: GeoPoint
    /// TripEnd: the trip's length, duration and top speed.
    public var distance: Double?
    public var duration: Double?
    /// TripEnd: the top speed of the trip; overspeed: the limit.
    public var maxSpeed: Double?
    /// Overspeed: the speed of the event's fix.
    public var speed: Double?
    /// Overspeed inside a zone with its own limit.
    public var zone: String?

    public init(kind: Kind, time: UTCTimestamp, position: GeoPoint, distance: Double? = nil, duration: Double? = nil,
                maxSpeed: Double? = nil, speed: Double? = nil, zone: String? = nil) {
        self.kind = kind
        self.time = time
        self.position = position
        self.distance = distance
        self.duration = duration
        self.maxSpeed = maxSpeed
        self.speed = speed
        self.zone = zone
    }

    /// The wire payload, e.g. `{"deviceId":"1","event":"TripEnd","time":"..","lat":..,"lng":..,
    /// "distance_m":1234.5,"duration_s":300,"max_speed_mps":16.2}`.
    public func json(deviceID: String) -> String {
        var out = "{\"deviceId\":" + FixPayload.jsonString(deviceID) + ",\"event\":\"\(kind.rawValue)\",\"time\":\"\(time.iso8601)\""
        out += ",\"lat\":" + JSONNumber.fixed(position.latitude, 7) + ",\"lng\":" + JSONNumber.fixed(position.longitude, 7)
        if let speed { out += ",\"speed_mps\":" + JSONNumber.fixed(speed, 2) }
        if let distance { out += ",\"distance_m\":" + JSONNumber.fixed(distance, 1) }
        if let duration { out += ",\"duration_s\":" + JSONNumber.fixed(duration, 1) }
        if let maxSpeed { out += ",\"max_speed_mps\":" + JSONNumber.fixed(maxSpeed, 2) }
        if let zone { out += ",\"zone\":" + FixPayload.jsonString(zone) }
        return out + "}"
    }
}
