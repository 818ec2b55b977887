#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A drive as GeoJSON (RFC 7946), for QGIS, gpxsee and geojson.io: the zones as polygons, each
/// published fix as a point, each trip as a line from its TripStart to its TripEnd, and each
/// geofence, trip and overspeed event as a point. Every feature says what it is in its `kind`
/// property; simplestyle properties (`stroke`, `marker-color`) colour it on geojson.io.
public struct DriveFeatureCollection: Sendable {
    private var features: [JSONValue] = []
    /// The trip under way: its start and the line so far ([lng, lat] pairs).
    private var trip: (start: MotionEvent, line: [JSONValue])?

    public init(zones: [Zone] = []) {
        features = zones.map(Self.feature(zone:))
    }

    public mutating func add(_ message: PublishedMessage) {
        switch message {
        case .fixes(let deviceID, let fixes):
            for fix in fixes {
                guard let latitude = fix.latitude, let longitude = fix.longitude else { continue }
                var properties: [String: JSONValue] = ["kind": .string("fix"), "marker-size": .string("small"),
                                                       "marker-color": .string("#3b6fb6")]
                if let deviceID { properties["deviceId"] = .string(deviceID) }
                if let time = fix.time { properties["time"] = .string(time.iso8601) }
                if let speed = fix.speed { properties["speed_mps"] = .number(speed) }
                if let track = fix.track { properties["course_deg"] = .number(track) }
                if let altitude = fix.altitudeMSL { properties["altitude_m"] = .number(altitude) }
                if let satellites = fix.satellitesUsed { properties["sats"] = .number(Double(satellites)) }
                if let hdop = fix.hdop { properties["hdop"] = .number(hdop) }
                features.append(Self.feature(.point(latitude, longitude), properties))
                if let open = trip, fix.time.map({ $0 > open.start.time }) ?? true {
                    trip?.line.append(Self.position(latitude, longitude))
                }
            }
        case .geofence(let deviceID, let event):
            var properties: [String: JSONValue] = ["kind": .string("geofence"), "event": .string(event.kind.rawValue),
                                                   "zone": .string(event.zone), "state": .string(event.state.rawValue),
                                                   "time": .string(event.time.iso8601),
                                                   "marker-color": .string(event.state == .inBoundary ? "#2e8540" : "#d96c00")]
            if let previous = event.previous { properties["previous"] = .string(previous.rawValue) }
            if let deviceID { properties["deviceId"] = .string(deviceID) }
            features.append(Self.feature(.point(event.position.latitude, event.position.longitude), properties))
        case .motion(let deviceID, let event):
            var properties = Self.properties(event)
            properties["marker-color"] = .string(event.kind == .overspeedStart || event.kind == .overspeedEnd ? "#c0392b" : "#6c3483")
            if let deviceID { properties["deviceId"] = .string(deviceID) }
            features.append(Self.feature(.point(event.position.latitude, event.position.longitude), properties))
            switch event.kind {
            case .tripStart:
                closeTrip(end: nil)
                trip = (event, [Self.position(event.position.latitude, event.position.longitude)])
            case .tripEnd:
                closeTrip(end: event)
            default:
                break
            }
        case .presence:
            break
        }
    }

    /// The collection; a trip still under way at the end is a line with no `end`.
    public var geoJSON: JSONValue {
        var copy = self
        copy.closeTrip(end: nil)
        return .object(["type": .string("FeatureCollection"), "features": .array(copy.features)])
    }

    private mutating func closeTrip(end: MotionEvent?) {
        guard let (start, opened) = trip else { return }
        trip = nil
        var line = opened
        var properties: [String: JSONValue] = ["kind": .string("trip"), "start": .string(start.time.iso8601),
                                               "stroke": .string("#6c3483"), "stroke-width": .number(3)]
        if let end {
            line.append(Self.position(end.position.latitude, end.position.longitude))
            properties["end"] = .string(end.time.iso8601)
            if let distance = end.distance { properties["distance_m"] = .number(distance) }
            if let duration = end.duration { properties["duration_s"] = .number(duration) }
            if let maxSpeed = end.maxSpeed { properties["max_speed_mps"] = .number(maxSpeed) }
        }
        // A LineString needs two positions: a trip that never moved from its first fix is a point.
        let geometry: Geometry = line.count >= 2 ? .lineString(line) : .point(start.position.latitude, start.position.longitude)
        features.append(Self.feature(geometry, properties))
    }

    static func properties(_ event: MotionEvent) -> [String: JSONValue] {
        var properties: [String: JSONValue] = ["kind": .string(event.kind == .tripStart || event.kind == .tripEnd ? "trip-event" : "overspeed"),
                                               "event": .string(event.kind.rawValue), "time": .string(event.time.iso8601)]
        if let zone = event.zone { properties["zone"] = .string(zone) }
        if let speed = event.speed { properties["speed_mps"] = .number(speed) }
        if let maxSpeed = event.maxSpeed { properties["max_speed_mps"] = .number(maxSpeed) }
        if let distance = event.distance { properties["distance_m"] = .number(distance) }
        if let duration = event.duration { properties["duration_s"] = .number(duration) }
        return properties
    }

    enum Geometry {
        case point(Double, Double)
        case lineString([JSONValue])
        /// Polygons of one exterior ring each, as [lng, lat] positions, closed.
        case polygons([[JSONValue]])
    }

    static func feature(_ geometry: Geometry, _ properties: [String: JSONValue]) -> JSONValue {
        let shape: JSONValue
        switch geometry {
        case .point(let latitude, let longitude):
            shape = .object(["type": .string("Point"), "coordinates": position(latitude, longitude)])
        case .lineString(let line):
            shape = .object(["type": .string("LineString"), "coordinates": .array(line)])
        case .polygons(let rings) where rings.count == 1:
            shape = .object(["type": .string("Polygon"), "coordinates": .array([.array(rings[0])])])
        case .polygons(let rings):
            shape = .object(["type": .string("MultiPolygon"), "coordinates": .array(rings.map { .array([.array($0)]) })])
        }
        return .object(["type": .string("Feature"), "geometry": shape, "properties": .object(properties)])
    }

    /// RFC 7946's order: longitude, then latitude; seven decimals (1 cm), as trackerd publishes.
    static func position(_ latitude: Double, _ longitude: Double) -> JSONValue {
        .array([.number(rounded(longitude)), .number(rounded(latitude))])
    }

    static func rounded(_ degrees: Double) -> Double { (degrees * 1e7).rounded() / 1e7 }

    /// A zone's outline: a box crossing the antimeridian as two polygons (RFC 7946 §3.1.9), a
    /// circle as a 72-sided polygon with its centre and radius in the properties.
    public static func feature(zone: Zone) -> JSONValue {
        var properties: [String: JSONValue] = ["kind": .string("zone"), "name": .string(zone.name),
                                               "stroke": .string("#555555"), "fill": .string("#888888"), "fill-opacity": .number(0.15)]
        if let maxSpeed = zone.maxSpeed { properties["max_speed_mps"] = .number(maxSpeed) }
        func ring(_ points: [(Double, Double)]) -> [JSONValue] {
            let ring = points.map { position($0.0, $0.1) }
            return ring.first == ring.last ? ring : ring + [ring[0]]
        }
        let rings: [[JSONValue]]
        switch zone.shape {
        case .box(let minLat, let maxLat, let minLon, let maxLon):
            let spans = minLon <= maxLon ? [(minLon, maxLon)] : [(minLon, 180.0), (-180.0, maxLon)]
            rings = spans.map { ring([(minLat, $0.0), (minLat, $0.1), (maxLat, $0.1), (maxLat, $0.0)]) }
        case .polygons(let polygons):
            rings = polygons.map { ring($0.map { ($0.latitude, $0.longitude) }) }
        case .circle(let center, let radius):
            properties["radius_m"] = .number(radius)
            properties["center"] = position(center.latitude, center.longitude)
            rings = [ring((0..<72).map { destination(from: center, bearing: Double($0) * 5, distance: radius) })]
        }
        return feature(.polygons(rings), properties)
    }

    /// The point `distance` metres from `start` along the great circle at `bearing` degrees.
    static func destination(from start: GeoPoint, bearing: Double, distance: Double) -> (Double, Double) {
        let radians = Double.pi / 180
        let angle = distance / GreatCircle.earthRadius
        let (phi, lambda, theta) = (start.latitude * radians, start.longitude * radians, bearing * radians)
        let phi2 = asin(sin(phi) * cos(angle) + cos(phi) * sin(angle) * cos(theta))
        let lambda2 = lambda + atan2(sin(theta) * sin(angle) * cos(phi), cos(angle) - sin(phi) * sin(phi2))
        var longitude = lambda2 / radians
        if longitude > 180 { longitude -= 360 } else if longitude < -180 { longitude += 360 }
        return (phi2 / radians, longitude)
    }
}
