/// The RegisterThing accepted reply.
public struct RegisterThingResponse: Codable, Sendable, Equatable {
    public var thingName: String
    public var deviceConfiguration: [String: String]

    public init(thingName: String, deviceConfiguration: [String: String] = [:]) {
        self.thingName = thingName
        self.deviceConfiguration = deviceConfiguration
    }

    private enum CodingKeys: String, CodingKey { case thingName, deviceConfiguration }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        thingName = try container.decode(String.self, forKey: .thingName)
        deviceConfiguration = try container.decodeIfPresent([String: String].self, forKey: .deviceConfiguration) ?? [:]
    }
}
