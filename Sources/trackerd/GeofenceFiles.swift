import TrackerCore
import TrackerSystem

/// Zones from the configuration, with their GeoJSON files read.
enum GeofenceFiles {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func zone(_ entry: GeofenceConfig) throws(LoadError) -> Zone {
        if let zone = entry.zone() { return zone }
        guard case .geojson(let path) = entry.shape else { throw LoadError(description: "geofence \(entry.name): no shape") }
        let bytes: [UInt8]
        do { bytes = try FileReader.readAll(path) } catch {
            throw LoadError(description: "geofence \(entry.name) (line \(entry.line)): \(error)")
        }
        do {
            return entry.zone(geojsonPolygons: try GeoJSON.polygons(from: bytes))!
        } catch {
            throw LoadError(description: "geofence \(entry.name) (line \(entry.line)): \(path): \(error)")
        }
    }
}
