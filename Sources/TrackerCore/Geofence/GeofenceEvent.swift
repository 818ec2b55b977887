/// A detector event, published and logged:
/// `{"deviceId":"..","zone":"depot","event":"OnEnter","state":"OutOfBoundary","previous":"InBoundary","lat":..,"lng":..,"time":".."}`
public struct GeofenceEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case onEnter = "OnEnter"
        case onExit = "OnExit"
        case onInput = "OnInput"
    }

    public var zone: String
    public var kind: Kind
    /// OnEnter: the state entered; OnExit: the state left; OnInput: the current state.
    public var state: ZoneState
    /// OnEnter only, and absent on the first one.
    public var previous: ZoneState?
    public var position: GeoPoint
    /// The time of the fix that caused the event.
    public var time: UTCTimestamp

    public init(zone: String, kind: Kind, state: ZoneState, previous: ZoneState? = nil, position: GeoPoint, time: UTCTimestamp) {
        self.zone = zone
        self.kind = kind
        self.state = state
        self.previous = previous
        self.position = position
        self.time = time
    }

    public func json(deviceID: String) -> String {
        var out = "{\"deviceId\":" + FixPayload.jsonString(deviceID) + ",\"zone\":" + FixPayload.jsonString(zone)
            + ",\"event\":\"\(kind.rawValue)\",\"state\":\"\(state.rawValue)\""
        if let previous { out += ",\"previous\":\"\(previous.rawValue)\"" }
        out += ",\"lat\":" + JSONNumber.fixed(position.latitude, 7) + ",\"lng\":" + JSONNumber.fixed(position.longitude, 7)
        return out + ",\"time\":\"\(time.iso8601)\"}"
    }
}
