/// The `[provisioning]` section. Its presence turns fleet provisioning on: the device trades the
/// claim certificate for its own on first boot and then uses the one in `[store] dir`.
public struct ProvisioningConfig: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// CreateCertificateFromCsr: the key is made on the device and never leaves it.
        case csr
        /// CreateKeysAndCertificate: AWS makes the key and sends it.
        case createKeys = "create-keys"
    }

    public enum KeyType: String, Sendable {
        case ecP256 = "ec-p256"
        case rsa2048 = "rsa-2048"
    }

    public var method: Method = .csr
    public var keyType: KeyType = .ecP256
    public var template = "iotDeviceTemplateName"
    /// Template parameters; `{serial}` and `{mac}` are replaced by the board's serial and MAC.
    public var parameters: [String: String] = ["SerialNumber": "{serial}"]
    public var claimCert = "/etc/trackerd/claim/certificate.pem.crt"
    /// A file, or a PKCS#11 URI of a key in the token of [credentials].
    public var claimKey = "/etc/trackerd/claim/private.pem.key"
    /// Remove the claim pair once the device has its own certificate (a re-flashed board needs
    /// it again, so the default keeps it).
    public var forgetClaim = false
    public var stepTimeout: Duration = .seconds(10)

    public init() {}

    static let keys = ["method", "key_type", "template", "parameters", "claim_cert", "claim_key", "forget_claim", "delete_claim",
                       "step_timeout_s"]

    /// Where the claim key is: a file, or a key in the token.
    public var claimKeyStorage: CredentialsConfig.KeyStorage {
        (try? PKCS11URI(parsing: claimKey)).map { .token($0) } ?? .file
    }

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        let s = "provisioning"
        if let (text, line) = reader.string(table, s, "method") {
            if let method = Method(rawValue: text) { self.method = method } else {
                reader.fail(line, "provisioning.method", "\"\(text)\" must be \"csr\" or \"create-keys\"")
            }
        }
        if let (text, line) = reader.string(table, s, "key_type") {
            if let type = KeyType(rawValue: text) { keyType = type } else {
                reader.fail(line, "provisioning.key_type", "\"\(text)\" must be \"ec-p256\" or \"rsa-2048\"")
            }
        }
        if let (name, line) = reader.string(table, s, "template") {
            let allowed = name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            }
            if name.isEmpty || name.utf8.count > 36 || !allowed {
                reader.fail(line, "provisioning.template", "\"\(name)\" must be 1 to 36 characters of A-Z a-z 0-9 - _ (AWS's rule)")
            } else { template = name }
        }
        if let value = table["parameters"] {
            if case .table(let parameters) = value.kind {
                var read: [String: String] = [:]
                for key in parameters.keys {
                    guard let parameter = parameters[key] else { continue }
                    guard case .string(let text) = parameter.kind else {
                        reader.fail(parameter.line, "provisioning.parameters.\(key)", "expected a string, found \(parameter.typeName)")
                        continue
                    }
                    read[key] = text
                }
                self.parameters = read
            } else {
                reader.fail(value.line, "provisioning.parameters", "expected a table of strings, found \(value.typeName)")
            }
        }
        for (key, path) in [("claim_cert", \ProvisioningConfig.claimCert), ("claim_key", \.claimKey)] {
            if let (file, line) = reader.string(table, s, key) {
                if file.hasPrefix("/") { self[keyPath: path] = file } else if key == "claim_key", PKCS11URI.looksLikeURI(file) {
                    do {
                        _ = try PKCS11URI(parsing: file)
                        claimKey = file
                    } catch {
                        reader.fail(line, "provisioning.claim_key", "\"\(file)\" \(error)")
                    }
                } else {
                    reader.fail(line, "provisioning.\(key)", "\"\(file)\" must be an absolute path" + (key == "claim_key" ? " or a PKCS#11 URI" : ""))
                }
            }
        }
        for key in ["forget_claim", "delete_claim"] {
            guard let value = table[key] else { continue }
            if case .boolean(let flag) = value.kind { forgetClaim = flag } else {
                reader.fail(value.line, "provisioning.\(key)", "expected true or false, found \(value.typeName)")
            }
            if key == "delete_claim" { reader.warn(value.line, "provisioning.delete_claim", "is deprecated: write forget_claim instead") }
        }
        if let seconds = reader.number(table, s, "step_timeout_s", range: 1...600) {
            stepTimeout = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        reader.unknownKeys(in: table, section: s, known: Self.keys)
    }

    /// The parameters with `{serial}` and `{mac}` filled in.
    public func resolvedParameters(serial: String, mac: String) -> [String: String] {
        parameters.mapValues { $0.replacing("{serial}", with: serial).replacing("{mac}", with: mac) }
    }
}
