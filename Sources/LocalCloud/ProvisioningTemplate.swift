import Foundation
import TrackerCore

/// An AWS IoT provisioning template (the JSON one writes for CreateProvisioningTemplate),
/// evaluated the way RegisterThing does: `Parameters` with `Default`s, `Ref` and `Fn::Join`,
/// an `AWS::IoT::Thing` with ThingName and AttributePayload, the certificate and policy
/// resources, and `DeviceConfiguration`.
public struct ProvisioningTemplate: Sendable {
    public let name: String
    private let body: [String: JSONValue]

    public enum TemplateError: Error, Equatable, CustomStringConvertible {
        case invalid(String)
        case missingParameter(String)

        public var description: String {
            switch self {
            case .invalid(let detail): "invalid template: \(detail)"
            case .missingParameter(let name): "Missing required parameter: \(name)"
            }
        }
    }

    public init(name: String, json: Data) throws(TemplateError) {
        self.name = name
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: json), case .object(let body) = value else {
            throw .invalid("\(name) is not a JSON object")
        }
        guard case .object(let resources)? = body["Resources"] else { throw .invalid("\(name) has no Resources") }
        guard resources.values.contains(where: { $0["Type"] == .string("AWS::IoT::Thing") }) else {
            throw .invalid("\(name) has no AWS::IoT::Thing resource")
        }
        self.body = body
    }

    /// What RegisterThing creates for these parameters.
    public struct Outcome: Sendable, Equatable {
        public var thingName: String
        public var attributes: [String: String]
        public var policyName: String?
        public var deviceConfiguration: [String: String]
    }

    public func evaluate(parameters given: [String: String], certificateId: String) throws(TemplateError) -> Outcome {
        var values: [String: String] = ["AWS::IoT::Certificate::Id": certificateId]
        if case .object(let declared)? = body["Parameters"] {
            for (name, declaration) in declared where values[name] == nil {
                if let value = given[name] {
                    values[name] = value
                } else if case .string(let fallback)? = declaration["Default"] {
                    values[name] = fallback
                } else {
                    throw .missingParameter(name)
                }
            }
        }
        guard case .object(let resources)? = body["Resources"],
              let thing = resources.values.first(where: { $0["Type"] == .string("AWS::IoT::Thing") }),
              case .object(let properties)? = thing["Properties"] else { throw .invalid("\(name): the Thing has no Properties") }
        guard let thingNameValue = properties["ThingName"] else { throw .invalid("\(name): the Thing has no ThingName") }
        let thingName = try resolve(thingNameValue, values)
        guard !thingName.isEmpty, thingName.utf8.count <= 128 else { throw .invalid("ThingName \"\(thingName)\" is not a valid thing name") }
        var attributes: [String: String] = [:]
        if case .object(let payload)? = properties["AttributePayload"] {
            for (key, value) in payload { attributes[key] = try resolve(value, values) }
        }
        var policyName: String?
        if let policy = resources.values.first(where: { $0["Type"] == .string("AWS::IoT::Policy") }),
           case .object(let policyProperties)? = policy["Properties"], let nameValue = policyProperties["PolicyName"] {
            policyName = try resolve(nameValue, values)
        }
        var configuration: [String: String] = [:]
        if case .object(let entries)? = body["DeviceConfiguration"] {
            for (key, value) in entries { configuration[key] = try resolve(value, values) }
        }
        return Outcome(thingName: thingName, attributes: attributes, policyName: policyName, deviceConfiguration: configuration)
    }

    private func resolve(_ value: JSONValue, _ parameters: [String: String]) throws(TemplateError) -> String {
        switch value {
        case .string(let text):
            return text
        case .number(let number):
            return number == number.rounded() ? String(Int64(number)) : String(number)
        case .bool(let flag):
            return flag ? "true" : "false"
        case .object(let object) where object.count == 1:
            if case .string(let name)? = object["Ref"] {
                guard let resolved = parameters[name] else { throw .invalid("Ref to an unknown parameter \(name)") }
                return resolved
            }
            if case .array(let join)? = object["Fn::Join"], join.count == 2,
               case .string(let separator) = join[0], case .array(let parts) = join[1] {
                var pieces: [String] = []
                for part in parts { pieces.append(try resolve(part, parameters)) }
                return pieces.joined(separator: separator)
            }
            throw .invalid("unsupported intrinsic function \(object.keys.first ?? "")")
        default:
            throw .invalid("a value that is not a string, Ref or Fn::Join")
        }
    }
}
