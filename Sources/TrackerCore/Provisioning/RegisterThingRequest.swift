/// The RegisterThing request: the ownership token and the template's parameters.
public struct RegisterThingRequest: Codable, Sendable, Equatable {
    public var certificateOwnershipToken: String
    public var parameters: [String: String]

    public init(certificateOwnershipToken: String, parameters: [String: String]) {
        self.certificateOwnershipToken = certificateOwnershipToken
        self.parameters = parameters
    }
}
