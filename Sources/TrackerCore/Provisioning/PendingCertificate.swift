/// A certificate AWS issued that RegisterThing has not accepted yet. It is stored before
/// RegisterThing is asked, so a crash between the two resumes instead of starting over
/// while the ownership token (valid one hour) lasts.
public struct PendingCertificate: Sendable, Equatable, Codable {
    public var certificateId: String
    public var certificatePem: String
    /// Only with CreateKeysAndCertificate; with a CSR the key was made on the device and is kept by the store.
    public var privateKey: String?
    public var ownershipToken: String
    /// When the request that produced it was sent (never later than the issue itself).
    public var requestedAt: UTCTimestamp

    public init(certificateId: String, certificatePem: String, privateKey: String?, ownershipToken: String,
                requestedAt: UTCTimestamp) {
        self.certificateId = certificateId
        self.certificatePem = certificatePem
        self.privateKey = privateKey
        self.ownershipToken = ownershipToken
        self.requestedAt = requestedAt
    }

    /// AWS's ownership tokens expire after one hour; a minute of margin for the round trip.
    public static let tokenLifetime: Int64 = 3_600_000 - 60_000

    public func isUsable(at now: UTCTimestamp) -> Bool {
        let age = now.millisecondsSinceEpoch - requestedAt.millisecondsSinceEpoch
        return age >= 0 && age < Self.tokenLifetime
    }
}

extension UTCTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = UTCTimestamp(iso8601: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 UTC time: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}
