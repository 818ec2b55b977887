import Foundation
import TrackerCrypto
import TrackerStorage

/// The files of one localcloud installation (`localcloud init DIR`).
public struct LocalCloudDirectory: Sendable {
    public let path: String

    /// A relative `path` is taken from the current directory: the files it writes (trackerd.toml)
    /// name absolute paths, as trackerd requires.
    public init(_ path: String) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        self.path = trimmed.hasPrefix("/") ? trimmed : FileManager.default.currentDirectoryPath + "/" + trimmed
    }

    public var caCertificate: String { path + "/ca/ca.pem" }
    public var caKey: String { path + "/ca/ca.key" }
    /// The CA's revocation list: the certificates rotated away (Mosquitto's crlfile).
    public var revocationList: String { path + "/ca/crl.pem" }
    /// How long issued device certificates are valid, as `init --cert-days` set it.
    public var certificateDaysFile: String { path + "/ca/device-certificate-days" }
    public var certificateDays: Int {
        (try? String(contentsOfFile: certificateDaysFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 365
    }
    public var serverCertificate: String { path + "/broker/server.pem" }
    public var serverKey: String { path + "/broker/server.key" }
    public var serviceCertificate: String { path + "/service/localcloud.pem" }
    public var serviceKey: String { path + "/service/localcloud.key" }
    public var claimCertificate: String { path + "/claim/certificate.pem.crt" }
    public var claimKey: String { path + "/claim/private.pem.key" }
    public var templates: String { path + "/templates" }
    public var registry: String { path + "/registry.json" }
    public var received: String { path + "/received.jsonl" }
    public var brokerConfig: String { path + "/broker/mosquitto.conf" }
    /// The broker ACL's table: a line "IDENTITY THING" per registered certificate (BrokerACL).
    public var brokerIdentities: String { path + "/broker/identities" }
    /// Who each fleet-provisioning reply is for: a line "HASH CLIENTID" per reply (BrokerACL).
    public var brokerReplies: String { path + "/broker/replies" }
    public var trackerdConfig: String { path + "/trackerd.toml" }
    public var shadows: String { path + "/shadows" }
    public var jobs: String { path + "/jobs" }
    /// Served over HTTPS to devices (job payloads: packages, zone sets).
    public var files: String { path + "/files" }

    /// The template of the original design: the thing is named after the serial number.
    public static let defaultTemplate = """
    {
      "Parameters": {
        "SerialNumber": {"Type": "String"},
        "AWS::IoT::Certificate::Id": {"Type": "String"}
      },
      "Resources": {
        "certificate": {"Type": "AWS::IoT::Certificate",
                        "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
        "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "trackerDevicePolicy"}},
        "thing": {"Type": "AWS::IoT::Thing",
                  "Properties": {"ThingName": {"Fn::Join": ["", ["tracker_", {"Ref": "SerialNumber"}]]},
                                 "AttributePayload": {"serialNumber": {"Ref": "SerialNumber"}}}}
      },
      "DeviceConfiguration": {}
    }

    """

    /// Creates the CA, the broker's, localcloud's and the claim certificates, the default
    /// template and a trackerd configuration that points at all of them.
    public func initialize(port: Int, certificateDays: Int = 365) throws {
        let files = FileManager.default
        for sub in ["ca", "broker", "service", "claim", "templates", "trackerd-state"] {
            try files.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true,
                                      attributes: [.posixPermissions: 0o700])
        }
        let (authority, caKeyPEM) = try CertificateAuthority.create(commonName: "localcloud CA")
        try write(authority.certificatePEM, caCertificate, 0o644)
        try write(caKeyPEM, caKey, 0o600)
        let server = try authority.issueServerCertificate(commonName: "localhost", subjectAltName: "DNS:localhost,IP:127.0.0.1")
        try write(server.certificate, serverCertificate, 0o644)
        try write(server.key, serverKey, 0o600)
        let service = try authority.issueKeysAndCertificate(commonName: BrokerACL.serviceIdentity, days: 825)
        try write(service.certificate, serviceCertificate, 0o644)
        try write(service.key, serviceKey, 0o600)
        let claim = try authority.issueKeysAndCertificate(commonName: BrokerACL.claimIdentity, days: 825)
        try write(claim.certificate, claimCertificate, 0o644)
        try write(claim.key, claimKey, 0o600)
        try write(Self.defaultTemplate, templates + "/iotDeviceTemplateName.json", 0o644)
        try write("\(certificateDays)\n", certificateDaysFile, 0o644)
        try write("""
        # trackerd, provisioned by localcloud (made by `localcloud init`).
        [gps]
        source = "gpsd"

        [mqtt]
        endpoint = "localhost"
        port = \(port)
        ca_file = "\(caCertificate)"
        topic = "gpsTopic"

        [provisioning]
        method = "csr"
        template = "iotDeviceTemplateName"
        parameters = { SerialNumber = "{serial}" }
        claim_cert = "\(claimCertificate)"
        claim_key = "\(claimKey)"

        [store]
        dir = "\(path)/trackerd-state"

        [jobs]
        dir = "\(path)/trackerd-state/jobs"
        # localcloud serves job files with its own CA.
        ca_file = "\(caCertificate)"

        """, trackerdConfig, 0o644)
    }

    /// Keys get their mode from the first byte, as on the device.
    func write(_ text: String, _ file: String, _ mode: mode_t) throws {
        try CredentialStore.write(Array(text.utf8), to: file, mode: mode)
    }
}
