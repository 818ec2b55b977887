/// The accepted reply of CreateCertificateFromCsr (no `privateKey`) and of
/// CreateKeysAndCertificate (with the `privateKey` AWS made).
public struct CreateCertificateResponse: Codable, Sendable, Equatable {
    public var certificateId: String
    public var certificatePem: String
    public var privateKey: String?
    public var certificateOwnershipToken: String

    public init(certificateId: String, certificatePem: String, privateKey: String? = nil, certificateOwnershipToken: String) {
        self.certificateId = certificateId
        self.certificatePem = certificatePem
        self.privateKey = privateKey
        self.certificateOwnershipToken = certificateOwnershipToken
    }
}
