/// A message trackerd publishes, read back from its payload: what localcloud's dashboard shows
/// and what `simulate --geojson` maps. It is told by its keys, not its topic, so a topic renamed
/// in trackerd.toml is still understood, and both payload formats and the backlog's batches read
/// alike.
public enum PublishedMessage: Sendable, Equatable {
    /// One fix, or a backlog batch's, oldest first.
    case fixes(deviceID: String?, [Fix])
    case geofence(deviceID: String?, GeofenceEvent)
    case motion(deviceID: String?, MotionEvent)
    /// The retained presence message: `online` (with the version and certificate) or `offline`
    /// (the will, or a clean stop).
    case presence(online: Bool, version: String?)

    /// nil when the payload is none of trackerd's messages.
    public init?(payload: JSONValue) {
        guard let body = payload.object else { return nil }
        if case .array(let items)? = body["fixes"] {
            let fixes = items.compactMap(Self.fix(from:))
            guard !fixes.isEmpty else { return nil }
            self = .fixes(deviceID: items.first?["gpsDeviceID"]?.textValue, fixes)
        } else if let fix = Self.fix(from: payload) {
            self = .fixes(deviceID: body["gpsDeviceID"]?.textValue, [fix])
        } else if let event = body["event"]?.textValue {
            guard let lat = body["lat"]?.numberValue, let lng = body["lng"]?.numberValue,
                  let time = body["time"]?.textValue.flatMap(UTCTimestamp.init(iso8601:)) else { return nil }
            let position = GeoPoint(latitude: lat, longitude: lng)
            let deviceID = body["deviceId"]?.textValue
            if let kind = GeofenceEvent.Kind(rawValue: event) {
                guard let zone = body["zone"]?.textValue, let state = body["state"]?.textValue.flatMap(ZoneState.init(rawValue:)) else { return nil }
                let previous = body["previous"]?.textValue.flatMap(ZoneState.init(rawValue:))
                self = .geofence(deviceID: deviceID, GeofenceEvent(zone: zone, kind: kind, state: state, previous: previous,
                                                                   position: position, time: time))
            } else if let kind = MotionEvent.Kind(rawValue: event) {
                self = .motion(deviceID: deviceID, MotionEvent(kind: kind, time: time, position: position,
                                                               distance: body["distance_m"]?.numberValue, duration: body["duration_s"]?.numberValue,
                                                               maxSpeed: body["max_speed_mps"]?.numberValue, speed: body["speed_mps"]?.numberValue,
                                                               zone: body["zone"]?.textValue))
            } else {
                return nil
            }
        } else if let state = body["state"]?.textValue, state == "online" || state == "offline" {
            self = .presence(online: state == "online", version: body["version"]?.textValue)
        } else {
            return nil
        }
    }

    /// A fix in either payload format: the extended format's ISO time when there is one, else
    /// gpsDatTm.
    static func fix(from value: JSONValue) -> Fix? {
        guard let lat = value["gpsLat"]?.numberValue, let lng = value["gpsLng"]?.numberValue,
              (-90...90).contains(lat), (-180...180).contains(lng) else { return nil }
        guard let time = value["time"]?.textValue.flatMap(UTCTimestamp.init(iso8601:))
                ?? value["gpsDatTm"]?.textValue.flatMap(UTCTimestamp.init(gpsDateTime:)) else { return nil }
        let mode = value["mode"]?.numberValue.flatMap { FixMode(rawValue: Int($0)) } ?? .twoD
        return Fix(time: time, mode: mode == .noFix ? .twoD : mode, latitude: lat, longitude: lng,
                   altitudeMSL: value["altMSL"]?.numberValue, satellitesUsed: value["sats"]?.numberValue.map { Int($0) },
                   hdop: value["hdop"]?.numberValue, speed: value["speed"]?.numberValue, track: value["track"]?.numberValue)
    }
}
