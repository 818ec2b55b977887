/// Zones as a GeoJSON FeatureCollection — the shadow's `geofences` and an `update-geofences`
/// job's file: each feature's geometry (Polygon or MultiPolygon) is the shape, its properties
/// are read as a `[[geofence]]` table is (the same checks and words), problems named by their
/// path in the document.
public enum GeofenceCollection {
    /// The zones of a whole file (any size), or every problem found in it.
    public static func parse(_ bytes: [UInt8]) -> Result<[GeofenceConfig], RemoteSettings.Invalid> {
        guard let document = JSONValue.parse(bytes) else {
            return .failure(RemoteSettings.Invalid([RemoteSettings.Problem(path: "", problem: "is not JSON")]))
        }
        let reader = ConfigReader(file: "zones")
        let (zones, problems) = zones(document, reader, path: "")
        let all = problems + reader.errors.map { error in
            let path = RemoteSettings.path(of: error.key ?? "")
            return RemoteSettings.Problem(path: path.hasPrefix("geofences.") ? String(path.dropFirst(10)) : path, problem: error.message)
        }
        return all.isEmpty ? .success(zones) : .failure(RemoteSettings.Invalid(all))
    }

    /// `path`: where the collection sits in its document ("geofences", or "" for a file).
    static func zones(_ collection: JSONValue, _ reader: ConfigReader, path: String) -> ([GeofenceConfig], [RemoteSettings.Problem]) {
        typealias Problem = RemoteSettings.Problem
        let prefix = path.isEmpty ? "" : path + "."
        guard collection["type"] == .string("FeatureCollection"), case .array(let features)? = collection["features"] else {
            return ([], [Problem(path: path.isEmpty ? "type" : path, problem: "must be a GeoJSON FeatureCollection")])
        }
        var problems: [Problem] = []
        var zones: [GeofenceConfig] = []
        var names: Set<String> = []
        for (index, feature) in features.enumerated() {
            let at = prefix + "features[\(index)]"
            guard case .object(let properties)? = feature["properties"] else {
                problems.append(Problem(path: at + ".properties", problem: "is required: name, and optionally hysteresis_m, min_consecutive, max_hdop, notify, max_speed_mps"))
                continue
            }
            let polygons: [[GeoPoint]]
            do { polygons = try GeoJSON.polygons(from: feature.bytes) } catch {
                problems.append(Problem(path: at + ".geometry", problem: error.reason))
                continue
            }
            guard case .table(let table) = RemoteSettings.toml(.object(properties)).kind,
                  let zone = GeofenceConfig.read(table, index: index, reader, geometry: .polygons(polygons)) else { continue }
            if !names.insert(zone.name).inserted {
                problems.append(Problem(path: at + ".properties.name", problem: "\"\(zone.name)\" is already the name of another zone"))
            }
            zones.append(zone)
        }
        return (zones, problems)
    }
}
