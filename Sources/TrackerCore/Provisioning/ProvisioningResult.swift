/// What a successful RegisterThing leaves the device with.
public struct ProvisioningResult: Sendable, Equatable, Codable {
    public var thingName: String
    public var deviceConfiguration: [String: String]
    public var certificateId: String
    public var provisionedAt: UTCTimestamp
    /// Which directory of the credential store holds this certificate and its key: "device"
    /// (nil, as written before rotation existed) or "device.next"; a rotation writes the other
    /// one, and this record is what switches between them, atomically.
    public var credentials: String?

    public init(thingName: String, deviceConfiguration: [String: String], certificateId: String, provisionedAt: UTCTimestamp) {
        self.thingName = thingName
        self.deviceConfiguration = deviceConfiguration
        self.certificateId = certificateId
        self.provisionedAt = provisionedAt
    }
}
