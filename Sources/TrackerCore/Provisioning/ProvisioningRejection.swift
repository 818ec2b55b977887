/// A `/rejected` reply: `{"statusCode":400,"errorCode":"...","errorMessage":"..."}`.
public struct ProvisioningRejection: Codable, Sendable, Equatable, CustomStringConvertible {
    public var statusCode: Int
    public var errorCode: String
    public var errorMessage: String

    public init(statusCode: Int, errorCode: String, errorMessage: String) {
        self.statusCode = statusCode
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    /// Throttling and server errors are worth another try; any other 4xx needs an operator.
    public var isRetryable: Bool {
        statusCode == 429 || statusCode >= 500 || errorCode.lowercased().contains("throttl")
    }

    public var description: String { "statusCode \(statusCode), errorCode \(errorCode), errorMessage \"\(errorMessage)\"" }
}
