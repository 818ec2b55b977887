import TrackerCore
import TrackerSystem

/// Zones from the configuration, with their GeoJSON files read.
enum GeofenceFiles {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func zones(_ entries: [GeofenceConfig]) throws(LoadError) -> [Zone] {
        var zones: [Zone] = []
        for entry in entries { zones.append(try zone(entry)) }
        return zones
    }

    static func zone(_ entry: GeofenceConfig) throws(LoadError) -> Zone {
        if let zone = entry.zone() { return zone }
        guard case .geojson(let path) = entry.shape else { throw LoadError(description: "geofence \(entry.name): no shape") }
        let bytes: [UInt8]
        do { bytes = try FileReader.readAll(path) } catch {
            throw LoadError(description: "geofence \(entry.name) (line \(entry.line)): \(error)")
        }
        let polygons: [[GeoPoint]]
        do { polygons = try GeoJSON.polygons(from: bytes) } catch {
            throw LoadError(description: "geofence \(entry.name) (line \(entry.line)): \(path): \(error)")
        }
        guard let zone = entry.zone(geojsonPolygons: polygons) else {
            throw LoadError(description: "geofence \(entry.name) (line \(entry.line)): \(path) holds no polygon")
        }
        return zone
    }
}
