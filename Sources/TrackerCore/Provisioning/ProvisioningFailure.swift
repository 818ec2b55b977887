/// Why provisioning stopped for good: each one needs an operator, and says what to fix.
public enum ProvisioningFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// AWS (or localcloud) rejected a step with a 4xx other than throttling.
    case rejected(step: String, ProvisioningRejection)
    /// CreateKeysAndCertificate answered without a private key.
    case missingPrivateKey

    public var description: String {
        switch self {
        case .rejected(let step, let rejection):
            "\(step) was rejected (\(rejection)); " + Self.advice(step: step, rejection)
        case .missingPrivateKey:
            "CreateKeysAndCertificate answered without a private key; check the provisioning endpoint"
        }
    }

    static func advice(step: String, _ rejection: ProvisioningRejection) -> String {
        let code = rejection.errorCode.lowercased() + " " + rejection.errorMessage.lowercased()
        if code.contains("template") { return "check [provisioning] template and that the template exists and is enabled" }
        if code.contains("parameter") { return "check [provisioning] parameters against the template's Parameters" }
        if code.contains("csr") { return "the device's certificate signing request was refused; check the key type the account accepts" }
        if code.contains("unauthorized") || code.contains("forbidden") || rejection.statusCode == 401 || rejection.statusCode == 403 {
            return "the claim certificate's policy does not allow this step; check the claim policy"
        }
        return "fix the cause above, then restart trackerd"
    }
}
