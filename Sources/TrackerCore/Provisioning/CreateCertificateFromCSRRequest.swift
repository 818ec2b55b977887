/// The CreateCertificateFromCsr request: the CSR of a key that never leaves the device.
public struct CreateCertificateFromCSRRequest: Codable, Sendable, Equatable {
    public var certificateSigningRequest: String

    public init(certificateSigningRequest: String) {
        self.certificateSigningRequest = certificateSigningRequest
    }
}
