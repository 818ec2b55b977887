/// Everything needed to open one MQTT connection.
public struct MQTTSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var caFile: String
    public var certFile: String
    /// A PEM file, or the RFC 7512 URI of a key in the token opened with `TokenKeys.open`.
    public var keyFile: String
    public var clientID: String
    public var keepalive: Int
    public var protocolVersion5: Bool
    public var alpn: String?
    /// Presence: published retained on every connect (online) and set as the last will (offline).
    public var statusTopic: String?

    public init(host: String, port: Int, caFile: String, certFile: String, keyFile: String, clientID: String,
                keepalive: Int = 60, protocolVersion5: Bool = false, alpn: String? = nil, statusTopic: String? = nil) {
        self.host = host
        self.port = port
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.clientID = clientID
        self.keepalive = keepalive
        self.protocolVersion5 = protocolVersion5
        self.alpn = alpn
        self.statusTopic = statusTopic
    }

    public var endpoint: String { "\(host):\(port)" }

    /// Whether the key is in a PKCS#11 token rather than a file.
    public var keyIsInToken: Bool { keyFile.hasPrefix("pkcs11:") }
}
