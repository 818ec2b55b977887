/// What a successful RegisterThing leaves the device with.
public struct ProvisioningResult: Sendable, Equatable, Codable {
    public var thingName: String
    public var deviceConfiguration: [String: String]
    public var certificateId: String
    public var provisionedAt: UTCTimestamp

    public init(thingName: String, deviceConfiguration: [String: String], certificateId: String, provisionedAt: UTCTimestamp) {
        self.thingName = thingName
        self.deviceConfiguration = deviceConfiguration
        self.certificateId = certificateId
        self.provisionedAt = provisionedAt
    }
}
