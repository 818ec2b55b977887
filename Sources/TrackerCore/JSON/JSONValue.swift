/// Any JSON value: provisioning templates and hook answers, and the device shadow's documents,
/// which are merged (JSON merge patch) and compared (the shadow's delta) as values.
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case object([String: JSONValue])
    case array([JSONValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var textValue: String? {
        if case .string(let text) = self { text } else { nil }
    }

    public var numberValue: Double? {
        if case .number(let number) = self { number } else { nil }
    }

    public var object: [String: JSONValue]? {
        if case .object(let object) = self { object } else { nil }
    }

    /// The document, parsed; nil when `bytes` is not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }

    /// Compact JSON with sorted keys, for the wire.
    public var bytes: [UInt8] { JSONWriter.write(self) }

    /// RFC 7386 merge patch, as the shadow applies an update: `null` deletes a key, objects merge
    /// key by key, anything else replaces. An object left empty is removed.
    public func merging(_ patch: JSONValue) -> JSONValue? {
        guard case .object(let changes) = patch else { return patch == .null ? nil : patch }
        var result = object ?? [:]
        for (key, change) in changes {
            if let merged = (result[key] ?? .object([:])).merging(change), merged != .object([:]) || change == .object([:]) {
                result[key] = merged
            } else {
                result[key] = nil
            }
        }
        return .object(result)
    }

    /// What of `self` (desired) differs from `reported`, as the shadow's delta: objects compared
    /// key by key, anything else (arrays included) as a whole; nil when nothing differs.
    public func delta(from reported: JSONValue?) -> JSONValue? {
        guard case .object(let desired) = self else { return self == reported ? nil : self }
        var out: [String: JSONValue] = [:]
        for (key, value) in desired {
            if case .object = value, case .object = reported?[key] {
                if let inner = value.delta(from: reported?[key]) { out[key] = inner }
            } else if reported?[key] != value {
                out[key] = value
            }
        }
        return out.isEmpty ? nil : .object(out)
    }

    /// The merge patch that turns `self` into `target` (what a device sends to make its reported
    /// state `target`): changed leaves, and `null` for keys that are gone; nil when they are equal.
    public func patch(to target: JSONValue) -> JSONValue? {
        guard case .object(let from) = self, case .object(let to) = target else { return self == target ? nil : target }
        var out: [String: JSONValue] = [:]
        for key in Set(from.keys).union(to.keys) {
            switch (from[key], to[key]) {
            case (let old?, let new?): if let inner = old.patch(to: new) { out[key] = inner }
            case (.some, nil): out[key] = .null
            case (nil, let new?): out[key] = new
            case (nil, nil): break
            }
        }
        return out.isEmpty ? nil : .object(out)
    }

    /// The same shape with every leaf replaced by `{"timestamp": t}`: the shadow's metadata.
    public func metadata(timestamp: Int64) -> JSONValue {
        guard case .object(let object) = self else { return .object(["timestamp": .number(Double(timestamp))]) }
        return .object(object.mapValues { $0.metadata(timestamp: timestamp) })
    }
}
