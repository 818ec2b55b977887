import Foundation
import TrackerCore

/// The zones the dashboard draws: a GeoJSON file given to `serve --zones`, and every thing's
/// geofences from its `trackerd` shadow (reported, else desired), each zone once with the things
/// that use it.
public struct FleetZones: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The features of the `--zones` file.
    public let fileFeatures: [JSONValue]
    public let shadowsDirectory: String

    /// `file`: a FeatureCollection, a Feature, or a shadow document's `{"geofences": ...}`.
    public init(file: String?, shadowsDirectory: String) throws(Invalid) {
        self.shadowsDirectory = shadowsDirectory
        guard let file else {
            fileFeatures = []
            return
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw Invalid(description: "\(file): cannot be read") }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch {
            throw Invalid(description: "\(file): \(error)")
        }
        guard let features = Self.features(value), !features.isEmpty else {
            throw Invalid(description: "\(file): not a GeoJSON FeatureCollection or Feature with a geometry")
        }
        fileFeatures = features.map { Self.tagged($0, source: "file", things: []) }
    }

    /// All of them, as one FeatureCollection.
    public func collection() -> JSONValue {
        var features = fileFeatures
        var seen: [[UInt8]: Int] = [:]
        for (index, feature) in features.enumerated() { seen[Self.identity(feature)] = index }
        let things = ((try? FileManager.default.contentsOfDirectory(atPath: shadowsDirectory)) ?? []).sorted()
        for thing in things {
            guard let data = FileManager.default.contents(atPath: shadowsDirectory + "/" + thing + "/trackerd.json"),
                  let shadow = JSONValue.parse(Array(data)),
                  let zones = shadow["reported"]?["geofences"] ?? shadow["desired"]?["geofences"] else { continue }
            for feature in Self.features(zones) ?? [] {
                let key = Self.identity(feature)
                if let index = seen[key], case .array(var users)? = features[index]["properties"]?["things"] {
                    users.append(.string(thing))
                    features[index] = Self.tagged(features[index], source: features[index]["properties"]?["source"]?.textValue ?? "shadow",
                                                  things: users)
                } else {
                    seen[key] = features.count
                    features.append(Self.tagged(feature, source: "shadow", things: [.string(thing)]))
                }
            }
        }
        return .object(["type": .string("FeatureCollection"), "features": .array(features)])
    }

    /// A zone is the same zone when its name and geometry are.
    static func identity(_ feature: JSONValue) -> [UInt8] {
        JSONWriter.write(.array([feature["properties"]?["name"] ?? .null, feature["geometry"] ?? .null]))
    }

    static func features(_ value: JSONValue) -> [JSONValue]? {
        if let zones = value["geofences"] { return features(zones) }
        switch value["type"]?.textValue {
        case "FeatureCollection":
            guard case .array(let items)? = value["features"] else { return nil }
            return items.filter { $0["geometry"]?.object != nil }
        case "Feature":
            return value["geometry"]?.object != nil ? [value] : nil
        default:
            return nil
        }
    }

    static func tagged(_ feature: JSONValue, source: String, things: [JSONValue]) -> JSONValue {
        guard var object = feature.object else { return feature }
        var properties = object["properties"]?.object ?? [:]
        properties["source"] = .string(source)
        properties["things"] = .array(things)
        object["properties"] = .object(properties)
        return .object(object)
    }
}
