import TrackerCore

/// What localcloud's dashboard shows, kept from what arrives: every thing (registered, or heard
/// from) with its connection, last position and recent track, and the latest events (geofence,
/// trip, overspeed, job, connection). Each change is also a numbered `StreamMessage` for the
/// page's event stream, so that a page that reconnects is sent what it missed. No I/O and no
/// clock: the caller says when things arrived.
public struct FleetView: Sendable {
    public struct TrackPoint: Sendable, Equatable {
        public var position: GeoPoint
        public var time: UTCTimestamp
        public var speed: Double?
        public var course: Double?
        public var altitude: Double?
    }

    public struct Thing: Sendable, Equatable {
        public var name: String
        /// When fleet provisioning registered it (nil: heard from, never registered here).
        public var registeredAt: String?
        public var attributes: [String: String] = [:]
        public var connected = false
        public var connectionChangedAt: String?
        /// trackerd's version, from its presence message.
        public var version: String?
        public var deviceID: String?
        public var lastReceivedAt: String?
        /// The most recent fixes, oldest first by fix time (a backlog arrives late and is sorted in).
        public var track: [TrackPoint] = []
        /// Fixes received in all, backlog included.
        public var fixes = 0
    }

    public struct Event: Sendable, Equatable {
        /// The stream message that carried it.
        public var id: Int
        public var thing: String
        /// `geofence`, `trip`, `overspeed`, `job` or `connection`.
        public var kind: String
        /// What happened: `OnEnter`, `TripEnd`, `OverspeedStart`, a job's status, `connected`.
        public var name: String
        /// The device's time for it, when it has one.
        public var time: String?
        public var receivedAt: String
        public var zone: String?
        public var position: GeoPoint?
        /// One line for the list.
        public var summary: String
        /// The message as it came (a payload, a job's update).
        public var detail: JSONValue
    }

    /// One server-sent event: `id: N`, `event: thing|track|event|zones`, `data: JSON`.
    public struct StreamMessage: Sendable, Equatable {
        public var id: Int
        public var event: String
        public var data: [UInt8]

        public var wire: [UInt8] {
            Array("id: \(id)\nevent: \(event)\ndata: ".utf8) + data + Array("\n\n".utf8)
        }
    }

    public private(set) var things: [String: Thing] = [:]
    public private(set) var events: [Event] = []
    /// The recent stream messages, oldest first.
    public private(set) var messages: [StreamMessage] = []
    /// Clients the broker says are connected, and since when.
    private var connectedClients: [String: String] = [:]
    /// The number of the newest stream message (0: none yet).
    public private(set) var lastID = 0
    public let trackLimit: Int
    public let eventLimit: Int
    public let messageLimit: Int

    /// A point is some 80 bytes: 1,000 a thing is 80 KB, 800 MB for ten thousand things.
    public init(trackLimit: Int = 1000, eventLimit: Int = 1000, messageLimit: Int = 5000) {
        self.trackLimit = trackLimit
        self.eventLimit = eventLimit
        self.messageLimit = messageLimit
    }

    /// The stream messages after `id`; nil when some of them are no longer kept (the page must
    /// load everything again).
    public func messages(after id: Int) -> [StreamMessage]? {
        guard id < lastID else { return [] }
        guard let first = messages.first, first.id <= id + 1 else { return nil }
        return Array(messages[(id + 1 - first.id)...])
    }

    // MARK: What arrives

    public mutating func registered(_ name: String, at registeredAt: String, attributes: [String: String]) {
        var thing = things[name] ?? newThing(name)
        thing.registeredAt = registeredAt
        thing.attributes = attributes
        things[name] = thing
        emit("thing", Self.json(thing))
    }

    /// The broker's word on a client. A thing's changes are shown; the others are remembered for
    /// a thing not known yet (not registered here, heard from later).
    public mutating func connection(_ clientID: String, connected: Bool, reason: String? = nil, at time: String) {
        if connected { connectedClients[clientID] = time } else { connectedClients[clientID] = nil }
        guard var thing = things[clientID], thing.connected != connected else { return }
        thing.connected = connected
        thing.connectionChangedAt = time
        things[clientID] = thing
        emit("thing", Self.json(thing))
        let name = connected ? "connected" : "disconnected"
        addEvent(thing: clientID, kind: "connection", name: name, time: nil, receivedAt: time, zone: nil, position: nil,
                 summary: connected || reason == nil || reason == name ? name : name + " (\(reason!))", detail: .object(["reason": reason.map(JSONValue.string) ?? .null]))
    }

    /// A message a device published (`clientID`: its publisher, when the broker's log said).
    public mutating func received(topic: String, clientID: String?, payload: JSONValue, at receivedAt: String) {
        guard let message = PublishedMessage(payload: payload) else { return }
        let deviceID: String? = switch message {
        case .fixes(let id, _), .geofence(let id, _), .motion(let id, _): id
        case .presence: nil
        }
        guard let name = thingName(topic: topic, clientID: clientID, deviceID: deviceID) else { return }
        var thing = things[name] ?? newThing(name)
        if let deviceID { thing.deviceID = deviceID }
        thing.lastReceivedAt = receivedAt
        switch message {
        case .fixes(_, let fixes):
            var added: [TrackPoint] = []
            for fix in fixes {
                guard let latitude = fix.latitude, let longitude = fix.longitude, let time = fix.time else { continue }
                let point = TrackPoint(position: GeoPoint(latitude: latitude, longitude: longitude), time: time, speed: fix.speed,
                                       course: fix.track, altitude: fix.altitudeMSL)
                if Self.insert(point, into: &thing.track) { added.append(point) }
            }
            thing.fixes += fixes.count
            if thing.track.count > trackLimit { thing.track.removeFirst(thing.track.count - trackLimit) }
            things[name] = thing
            emit("thing", Self.json(thing))
            if !added.isEmpty {
                emit("track", .object(["thing": .string(name), "points": .array(added.map(Self.json(point:)))]))
            }
        case .geofence(_, let event):
            things[name] = thing
            addEvent(thing: name, kind: "geofence", name: event.kind.rawValue, time: event.time.iso8601, receivedAt: receivedAt,
                     zone: event.zone, position: event.position,
                     summary: "\(event.zone): \(event.kind.rawValue) \(event.state.rawValue)" + (event.previous.map { " (was \($0.rawValue))" } ?? ""),
                     detail: payload)
        case .motion(_, let event):
            things[name] = thing
            let isTrip = event.kind == .tripStart || event.kind == .tripEnd
            addEvent(thing: name, kind: isTrip ? "trip" : "overspeed", name: event.kind.rawValue, time: event.time.iso8601,
                     receivedAt: receivedAt, zone: event.zone, position: event.position, summary: Self.summary(event), detail: payload)
        case .presence(_, let version):
            if let version { thing.version = version }
            things[name] = thing
            emit("thing", Self.json(thing))
        }
    }

    /// A job execution's status changed (the device's update, as the Jobs service accepted it).
    public mutating func jobExecution(thing: String, jobId: String, status: String, details: [String: String], at time: String) {
        if things[thing] == nil { things[thing] = newThing(thing) }
        let detailText = details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        addEvent(thing: thing, kind: "job", name: status, time: nil, receivedAt: time, zone: nil, position: nil,
                 summary: "job \(jobId): \(status)" + (detailText.isEmpty ? "" : " (\(detailText))"),
                 detail: .object(["jobId": .string(jobId), "status": .string(status),
                                  "statusDetails": .object(details.mapValues(JSONValue.string))]))
    }

    /// The zones changed (a shadow's geofences): the page loads them again.
    public mutating func zonesChanged() {
        emit("zones", .object([:]))
    }

    // MARK: Helpers

    private func newThing(_ name: String) -> Thing {
        var thing = Thing(name: name)
        if let since = connectedClients[name] {
            thing.connected = true
            thing.connectionChangedAt = since
        }
        return thing
    }

    /// The thing a message is from: its publisher, else the thing in a `trackers/{thing}/...`
    /// topic, else the thing that last used this device id or was registered with it as its
    /// serial number, else the device id itself.
    func thingName(topic: String, clientID: String?, deviceID: String?) -> String? {
        if let clientID, !clientID.hasPrefix("localcloud") { return clientID }
        let parts = topic.split(separator: "/")
        if parts.count >= 3, parts[0] == "trackers" { return String(parts[1]) }
        guard let deviceID else { return nil }
        return things.values.first { $0.deviceID == deviceID || $0.attributes["serialNumber"] == deviceID }?.name ?? deviceID
    }

    /// Sorted in by fix time; false for a fix already there (a batch resent after a lost PUBACK).
    static func insert(_ point: TrackPoint, into track: inout [TrackPoint]) -> Bool {
        if let last = track.last, last.time < point.time {
            track.append(point)
            return true
        }
        var low = 0, high = track.count
        while low < high {
            let mid = (low + high) / 2
            if track[mid].time < point.time { low = mid + 1 } else { high = mid }
        }
        if low < track.count, track[low].time == point.time { return false }
        track.insert(point, at: low)
        return true
    }

    private mutating func addEvent(thing: String, kind: String, name: String, time: String?, receivedAt: String, zone: String?,
                                   position: GeoPoint?, summary: String, detail: JSONValue) {
        let event = Event(id: lastID + 1, thing: thing, kind: kind, name: name, time: time, receivedAt: receivedAt, zone: zone,
                          position: position, summary: summary, detail: detail)
        events.append(event)
        if events.count > eventLimit { events.removeFirst(events.count - eventLimit) }
        emit("event", Self.json(event))
    }

    private mutating func emit(_ event: String, _ data: JSONValue) {
        lastID += 1
        messages.append(StreamMessage(id: lastID, event: event, data: JSONWriter.write(data)))
        if messages.count > messageLimit { messages.removeFirst(messages.count - messageLimit) }
    }

    static func summary(_ event: MotionEvent) -> String {
        func speed(_ metresPerSecond: Double) -> String {
            JSONNumber.fixed(metresPerSecond, 1) + " m/s (" + JSONNumber.fixed(metresPerSecond * 3.6, 0) + " km/h)"
        }
        switch event.kind {
        case .tripStart:
            return "TripStart"
        case .tripEnd:
            var parts: [String] = []
            if let distance = event.distance { parts.append(JSONNumber.fixed(distance / 1000, 2) + " km") }
            if let duration = event.duration { parts.append(JSONNumber.fixed(duration / 60, 1) + " min") }
            if let maxSpeed = event.maxSpeed { parts.append("top " + speed(maxSpeed)) }
            return "TripEnd" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
        case .overspeedStart, .overspeedEnd:
            var text = event.kind.rawValue
            if let value = event.speed { text += ": " + speed(value) }
            if let limit = event.maxSpeed { text += ", limit " + speed(limit) }
            if let zone = event.zone { text += " in " + zone }
            return text
        }
    }

    // MARK: JSON, as the API and the stream give it

    public static func json(_ thing: Thing) -> JSONValue {
        var object: [String: JSONValue] = ["thingName": .string(thing.name), "connected": .bool(thing.connected),
                                           "fixes": .number(Double(thing.fixes)),
                                           "attributes": .object(thing.attributes.mapValues(JSONValue.string))]
        object["registeredAt"] = thing.registeredAt.map(JSONValue.string) ?? .null
        object["connectionChangedAt"] = thing.connectionChangedAt.map(JSONValue.string) ?? .null
        object["version"] = thing.version.map(JSONValue.string) ?? .null
        object["deviceId"] = thing.deviceID.map(JSONValue.string) ?? .null
        object["lastReceivedAt"] = thing.lastReceivedAt.map(JSONValue.string) ?? .null
        object["lastPosition"] = thing.track.last.map(json(point:)) ?? .null
        return .object(object)
    }

    public static func json(point: TrackPoint) -> JSONValue {
        var object: [String: JSONValue] = ["lat": .number(point.position.latitude), "lng": .number(point.position.longitude),
                                           "time": .string(point.time.iso8601)]
        if let speed = point.speed { object["speed"] = .number(speed) }
        if let course = point.course { object["course"] = .number(course) }
        if let altitude = point.altitude { object["altMSL"] = .number(altitude) }
        return .object(object)
    }

    public static func json(_ event: Event) -> JSONValue {
        var object: [String: JSONValue] = ["id": .number(Double(event.id)), "thing": .string(event.thing), "kind": .string(event.kind),
                                           "event": .string(event.name), "receivedAt": .string(event.receivedAt),
                                           "summary": .string(event.summary), "detail": event.detail]
        object["time"] = event.time.map(JSONValue.string) ?? .null
        object["zone"] = event.zone.map(JSONValue.string) ?? .null
        object["lat"] = event.position.map { .number($0.latitude) } ?? .null
        object["lng"] = event.position.map { .number($0.longitude) } ?? .null
        return .object(object)
    }
}
