#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A geofence's area. A point exactly on the boundary is inside (the original detector used
/// `>=` and `<=`). Polygon edges run the short way round (less than 180° of longitude), so
/// boxes and polygons may cross the antimeridian; circles use great-circle distance.
public enum ZoneShape: Sendable, Equatable {
    /// `minLongitude > maxLongitude` means the box crosses the antimeridian.
    case box(minLatitude: Double, maxLatitude: Double, minLongitude: Double, maxLongitude: Double)
    /// Rings of at least 3 points, closed implicitly; a MultiPolygon is several.
    case polygons([[GeoPoint]])
    case circle(center: GeoPoint, radius: Double)

    public func contains(_ p: GeoPoint) -> Bool {
        switch self {
        case .box(let minLat, let maxLat, let minLon, let maxLon):
            guard p.latitude >= minLat && p.latitude <= maxLat else { return false }
            return minLon <= maxLon ? (p.longitude >= minLon && p.longitude <= maxLon)
                                    : (p.longitude >= minLon || p.longitude <= maxLon)
        case .polygons(let rings):
            return rings.contains { Self.ring($0, contains: p) }
        case .circle(let center, let radius):
            return GreatCircle.distance(latitude1: center.latitude, longitude1: center.longitude,
                                        latitude2: p.latitude, longitude2: p.longitude) <= radius
        }
    }

    /// A latitude/longitude rectangle that holds the whole shape, for a cheap "certainly
    /// outside" test before the exact one; nil when the shape crosses the antimeridian or
    /// reaches a pole (then only the exact test is used).
    public var boundingBox: (minLatitude: Double, maxLatitude: Double, minLongitude: Double, maxLongitude: Double)? {
        switch self {
        case .box(let minLat, let maxLat, let minLon, let maxLon):
            return minLon <= maxLon ? (minLat, maxLat, minLon, maxLon) : nil
        case .polygons(let rings):
            var box = (minLatitude: Double.infinity, maxLatitude: -Double.infinity,
                       minLongitude: Double.infinity, maxLongitude: -Double.infinity)
            for ring in rings where !ring.isEmpty {
                let (points, _) = Self.unwrapped(ring, ring[0])
                for point in points {
                    box.minLatitude = min(box.minLatitude, point.y)
                    box.maxLatitude = max(box.maxLatitude, point.y)
                    box.minLongitude = min(box.minLongitude, point.x)
                    box.maxLongitude = max(box.maxLongitude, point.x)
                }
            }
            return box.minLongitude >= -180 && box.maxLongitude <= 180 ? box : nil
        case .circle(let center, let radius):
            let degrees = radius / (GreatCircle.earthRadius * Double.pi / 180) * 1.001
            let scale = cos(min(89.9, abs(center.latitude) + degrees) * Double.pi / 180)
            let box = (center.latitude - degrees, center.latitude + degrees,
                       center.longitude - degrees / scale, center.longitude + degrees / scale)
            return box.0 > -90 && box.1 < 90 && box.2 >= -180 && box.3 <= 180 ? box : nil
        }
    }

    /// Metres from `p` to the nearest boundary (a local flat projection: exact enough for
    /// hysteresis of metres to kilometres).
    public func distanceToBoundary(_ p: GeoPoint) -> Double {
        switch self {
        case .box(let minLat, let maxLat, let minLon, let maxLon):
            let corners = [GeoPoint(latitude: minLat, longitude: minLon), GeoPoint(latitude: minLat, longitude: maxLon),
                           GeoPoint(latitude: maxLat, longitude: maxLon), GeoPoint(latitude: maxLat, longitude: minLon)]
            return Self.distanceToRing(corners, p)
        case .polygons(let rings):
            return rings.map { Self.distanceToRing($0, p) }.min() ?? .infinity
        case .circle(let center, let radius):
            return abs(GreatCircle.distance(latitude1: center.latitude, longitude1: center.longitude,
                                            latitude2: p.latitude, longitude2: p.longitude) - radius)
        }
    }

    /// The ring's longitudes unwrapped so that each edge runs the short way, and the point's
    /// longitude shifted by a turn if that brings it into the ring's span.
    static func unwrapped(_ ring: [GeoPoint], _ p: GeoPoint) -> (ring: [(x: Double, y: Double)], point: (x: Double, y: Double)) {
        var out: [(x: Double, y: Double)] = []
        var previous = ring[0].longitude
        for vertex in ring {
            var lon = vertex.longitude
            while lon - previous > 180 { lon -= 360 }
            while lon - previous < -180 { lon += 360 }
            out.append((lon, vertex.latitude))
            previous = lon
        }
        let low = out.map(\.x).min() ?? 0, high = out.map(\.x).max() ?? 0
        var x = p.longitude
        if x < low { x += 360 * ((low - x) / 360).rounded(.up) }
        if x > high { x -= 360 * ((x - high) / 360).rounded(.up) }
        if x < low && x + 360 <= high { x += 360 }
        return (out, (x, p.latitude))
    }

    static func ring(_ ring: [GeoPoint], contains p: GeoPoint) -> Bool {
        let (points, q) = unwrapped(ring, p)
        var inside = false
        var j = points.count - 1
        for i in 0..<points.count {
            let a = points[i], b = points[j]
            // On an edge (within a nanodegree): inside, like the original `>=`/`<=`.
            let cross = (b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x)
            if abs(cross) < 1e-12, q.x >= min(a.x, b.x) - 1e-12, q.x <= max(a.x, b.x) + 1e-12,
               q.y >= min(a.y, b.y) - 1e-12, q.y <= max(a.y, b.y) + 1e-12 {
                return true
            }
            if (a.y > q.y) != (b.y > q.y) {
                let x = a.x + (q.y - a.y) / (b.y - a.y) * (b.x - a.x)
                if q.x < x { inside.toggle() }
            }
            j = i
        }
        return inside
    }

    static func distanceToRing(_ ring: [GeoPoint], _ p: GeoPoint) -> Double {
        let (points, q) = unwrapped(ring, p)
        let metresPerDegree = GreatCircle.earthRadius * Double.pi / 180
        let scale = cos(q.y * Double.pi / 180)
        func project(_ v: (x: Double, y: Double)) -> (Double, Double) {
            ((v.x - q.x) * scale * metresPerDegree, (v.y - q.y) * metresPerDegree)
        }
        var best = Double.infinity
        for i in 0..<points.count {
            let (ax, ay) = project(points[i]), (bx, by) = project(points[(i + 1) % points.count])
            let dx = bx - ax, dy = by - ay
            let length = dx * dx + dy * dy
            let t = length > 0 ? max(0, min(1, -(ax * dx + ay * dy) / length)) : 0
            let cx = ax + t * dx, cy = ay + t * dy
            best = min(best, (cx * cx + cy * cy).squareRoot())
        }
        return best
    }

    /// True when two edges of the ring cross (other than neighbours sharing a vertex).
    public static func isSelfCrossing(_ ring: [GeoPoint]) -> Bool {
        let (points, _) = unwrapped(ring, ring[0])
        let n = points.count
        func orientation(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ c: (x: Double, y: Double)) -> Double {
            (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
        }
        for i in 0..<n {
            for j in (i + 1)..<n where j != i + 1 && !(i == 0 && j == n - 1) {
                let a = points[i], b = points[(i + 1) % n], c = points[j], d = points[(j + 1) % n]
                let o1 = orientation(a, b, c), o2 = orientation(a, b, d), o3 = orientation(c, d, a), o4 = orientation(c, d, b)
                if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) { return true }
            }
        }
        return false
    }
}
