/// AWS IoT fleet provisioning's MQTT topics (the JSON variants).
public enum ProvisioningTopics {
    public static let createKeysAndCertificate = "$aws/certificates/create/json"
    public static let createCertificateFromCSR = "$aws/certificates/create-from-csr/json"

    public static func registerThing(template: String) -> String {
        "$aws/provisioning-templates/\(template)/provision/json"
    }

    public static func accepted(_ topic: String) -> String { topic + "/accepted" }
    public static func rejected(_ topic: String) -> String { topic + "/rejected" }
}
