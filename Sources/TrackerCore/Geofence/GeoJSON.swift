/// Reads the polygons of a GeoJSON document: a Polygon or MultiPolygon geometry, or a Feature /
/// FeatureCollection holding them. GeoJSON orders positions [longitude, latitude]; holes
/// (a polygon's inner rings) are not supported and are refused rather than ignored.
public enum GeoJSON {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    private struct Geometry: Decodable {
        let type: String
        let coordinates: Coordinates?
        let geometry: Box<Geometry>?
        let features: [Geometry]?
    }

    private final class Box<T: Decodable>: Decodable {
        let value: T
        required init(from decoder: any Decoder) throws { value = try T(from: decoder) }
    }

    private enum Coordinates: Decodable {
        case polygon([[[Double]]])
        case multiPolygon([[[[Double]]]])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let multi = try? container.decode([[[[Double]]]].self) { self = .multiPolygon(multi) }
            else if let polygon = try? container.decode([[[Double]]].self) { self = .polygon(polygon) }
            else { self = .other }
        }
    }

    public static func polygons(from bytes: [UInt8]) throws(Invalid) -> [[GeoPoint]] {
        guard let geometry = try? JSONCodec.decode(Geometry.self, from: bytes) else {
            throw Invalid(reason: "not a GeoJSON object")
        }
        return try polygons(geometry)
    }

    private static func polygons(_ g: Geometry) throws(Invalid) -> [[GeoPoint]] {
        switch g.type {
        case "Feature":
            guard let inner = g.geometry?.value else { throw Invalid(reason: "a Feature without geometry") }
            return try polygons(inner)
        case "FeatureCollection":
            var out: [[GeoPoint]] = []
            for feature in g.features ?? [] { out += try polygons(feature) }
            guard !out.isEmpty else { throw Invalid(reason: "a FeatureCollection without polygons") }
            return out
        case "Polygon":
            guard case .polygon(let rings)? = g.coordinates else { throw Invalid(reason: "a Polygon without [[[lng, lat], ...]] coordinates") }
            return [try ring(rings)]
        case "MultiPolygon":
            guard case .multiPolygon(let polygons)? = g.coordinates else { throw Invalid(reason: "a MultiPolygon without coordinates") }
            var out: [[GeoPoint]] = []
            for rings in polygons { out.append(try ring(rings)) }
            return out
        default:
            throw Invalid(reason: "a \(g.type): only Polygon and MultiPolygon describe an area")
        }
    }

    private static func ring(_ rings: [[[Double]]]) throws(Invalid) -> [GeoPoint] {
        guard rings.count == 1 else { throw Invalid(reason: "polygons with holes are not supported") }
        var points: [GeoPoint] = []
        for position in rings[0] {
            guard position.count >= 2 else { throw Invalid(reason: "a position with fewer than 2 numbers") }
            guard FixRanges.latitude.contains(position[1]), FixRanges.longitude.contains(position[0]) else {
                throw Invalid(reason: "a position [\(position[0]), \(position[1])] outside ±180° longitude, ±90° latitude")
            }
            points.append(GeoPoint(latitude: position[1], longitude: position[0]))
        }
        if points.count > 1, points.first == points.last { points.removeLast() }
        guard points.count >= 3 else { throw Invalid(reason: "a ring with fewer than 3 distinct points") }
        return points
    }
}
