/// One `[[geofence]]` entry. A `geojson` shape is a file, read when trackerd starts.
public struct GeofenceConfig: Sendable, Equatable {
    public enum Shape: Sendable, Equatable {
        case zone(ZoneShape)
        case geojson(path: String)
    }

    public var name: String
    public var shape: Shape
    public var hysteresis = 0.0
    public var minConsecutive = 1
    public var maxHDOP = 0.0
    public var notify: Zone.Notify = .transitions
    public var maxSpeed: Double?
    public let line: Int

    /// Points of an inline `polygon`, as Amazon Location Service allows per geofence.
    public static let maxPolygonPoints = 1_000

    static let keys = ["name", "box", "polygon", "circle", "geojson", "hysteresis_m", "min_consecutive", "max_hdop", "notify", "max_speed_mps"]

    /// The zone, given the polygons of its GeoJSON file when it has one.
    public func zone(geojsonPolygons: [[GeoPoint]]? = nil) -> Zone? {
        let resolved: ZoneShape
        switch shape {
        case .zone(let zone): resolved = zone
        case .geojson: guard let polygons = geojsonPolygons else { return nil }; resolved = .polygons(polygons)
        }
        return Zone(name: name, shape: resolved, hysteresis: hysteresis, minConsecutive: minConsecutive, maxHDOP: maxHDOP, notify: notify,
                    maxSpeed: maxSpeed)
    }

    /// nil when the entry has errors (each reported to `reader`).
    /// `geometry`: the shape when it comes from elsewhere (a GeoJSON feature of the shadow); the
    /// table must then name none.
    static func read(_ table: TOMLTable, index: Int, _ reader: ConfigReader, geometry: ZoneShape? = nil) -> GeofenceConfig? {
        let s = "geofence[\(index)]"
        let before = reader.errors.count
        var name = ""
        if let (text, line) = reader.string(table, s, "name") {
            let valid = !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
            }
            if valid { name = text } else { reader.fail(line, "\(s).name", "\"\(text)\" must be 1 to 64 characters of A-Z a-z 0-9 _ . -") }
        } else {
            reader.fail(table.line, "\(s).name", "is required")
        }
        let given = ["box", "polygon", "circle", "geojson"].filter { table[$0] != nil }
        var shape: Shape?
        if let geometry {
            for key in given { reader.fail(table[key]?.line ?? table.line, "\(s).\(key)", "the shape is the feature's geometry") }
            shape = .zone(geometry)
        } else if given.count != 1 {
            reader.fail(table.line, s, given.isEmpty ? "needs one shape: box, polygon, circle or geojson"
                                                     : "has \(given.joined(separator: " and ")); exactly one shape is allowed")
        } else {
            shape = readShape(given[0], table, s, reader)
        }
        var config = GeofenceConfig(name: name, shape: shape ?? .zone(.polygons([])), line: table.line)
        if let metres = reader.number(table, s, "hysteresis_m", range: 0...100_000) { config.hysteresis = metres }
        if let count = reader.integer(table, s, "min_consecutive", range: 1...1000) { config.minConsecutive = Int(count) }
        if let hdop = reader.number(table, s, "max_hdop", range: 0...100) { config.maxHDOP = hdop }
        if let speed = reader.number(table, s, "max_speed_mps", range: 0.1...200) { config.maxSpeed = speed }
        if let (text, line) = reader.string(table, s, "notify") {
            if let notify = Zone.Notify(rawValue: text) { config.notify = notify } else {
                reader.fail(line, "\(s).notify", "\"\(text)\" must be \"transitions\" or \"every-fix\"")
            }
        }
        reader.unknownKeys(in: table, section: s, known: keys)
        return reader.errors.count == before ? config : nil
    }

    private static func readShape(_ kind: String, _ table: TOMLTable, _ s: String, _ reader: ConfigReader) -> Shape? {
        guard let value = table[kind] else { return nil }
        let key = "\(s).\(kind)"
        func number(_ v: TOMLValue?) -> Double? {
            switch v?.kind {
            case .float(let x)?: x
            case .integer(let n)?: Double(n)
            default: nil
            }
        }
        switch kind {
        case "box":
            guard case .table(let box) = value.kind,
                  let minLat = number(box["min_lat"]), let maxLat = number(box["max_lat"]),
                  let minLng = number(box["min_lng"]), let maxLng = number(box["max_lng"]) else {
                reader.fail(value.line, key, "must be { min_lat = .., max_lat = .., min_lng = .., max_lng = .. }")
                return nil
            }
            guard [minLat, maxLat].allSatisfy({ (-90...90).contains($0) }) else {
                reader.fail(value.line, key, "a latitude is outside ±90"); return nil
            }
            guard [minLng, maxLng].allSatisfy({ (-180...180).contains($0) }) else {
                reader.fail(value.line, key, "a longitude is outside ±180"); return nil
            }
            guard minLat <= maxLat else { reader.fail(value.line, key, "min_lat \(minLat) > max_lat \(maxLat)"); return nil }
            return .zone(.box(minLatitude: minLat, maxLatitude: maxLat, minLongitude: minLng, maxLongitude: maxLng))
        case "polygon":
            guard case .array(let items) = value.kind else { reader.fail(value.line, key, "must be [[lat, lng], ...]"); return nil }
            // The self-crossing check compares every edge with every other: bounded here, as
            // Amazon Location bounds its polygons, so that a hostile file cannot stall startup.
            guard items.count <= maxPolygonPoints else {
                reader.fail(value.line, key, "has \(items.count) points; at most \(maxPolygonPoints) (put a larger area in a geojson file)")
                return nil
            }
            var points: [GeoPoint] = []
            for item in items {
                guard case .array(let pair) = item.kind, pair.count == 2, let lat = number(pair[0]), let lng = number(pair[1]) else {
                    reader.fail(item.line, key, "each point must be [lat, lng]"); return nil
                }
                guard (-90...90).contains(lat) else { reader.fail(item.line, key, "latitude \(lat) is outside ±90"); return nil }
                guard (-180...180).contains(lng) else { reader.fail(item.line, key, "longitude \(lng) is outside ±180"); return nil }
                points.append(GeoPoint(latitude: lat, longitude: lng))
            }
            guard points.count >= 3 else { reader.fail(value.line, key, "needs at least 3 points, has \(points.count)"); return nil }
            guard !ZoneShape.isSelfCrossing(points) else { reader.fail(value.line, key, "the polygon crosses itself"); return nil }
            return .zone(.polygons([points]))
        case "circle":
            guard case .table(let circle) = value.kind, let lat = number(circle["lat"]), let lng = number(circle["lng"]),
                  let radius = number(circle["radius_m"]) else {
                reader.fail(value.line, key, "must be { lat = .., lng = .., radius_m = .. }"); return nil
            }
            guard (-90...90).contains(lat) else { reader.fail(value.line, key, "latitude \(lat) is outside ±90"); return nil }
            guard (-180...180).contains(lng) else { reader.fail(value.line, key, "longitude \(lng) is outside ±180"); return nil }
            guard radius > 0 else { reader.fail(value.line, key, "radius_m must be greater than 0"); return nil }
            return .zone(.circle(center: GeoPoint(latitude: lat, longitude: lng), radius: radius))
        default:
            guard case .string(let path) = value.kind, path.hasPrefix("/") else {
                reader.fail(value.line, key, "must be the absolute path of a GeoJSON file"); return nil
            }
            return .geojson(path: path)
        }
    }
}
