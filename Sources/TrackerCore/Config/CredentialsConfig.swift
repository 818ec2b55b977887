/// The `[credentials]` section: where the device's private key lives (a file, or a PKCS#11
/// token: SoftHSM2, a TPM 2.0 through tpm2-pkcs11, a secure element), and when its certificate
/// is renewed.
public struct CredentialsConfig: Sendable, Equatable {
    public enum KeyStorage: Sendable, Equatable {
        /// A key file: [mqtt] key_file, or with [provisioning] one made under [store] dir.
        case file
        /// A key inside a token: with [provisioning] made there at first boot (and at each
        /// rotation, beside the old one); without, already there, used with [mqtt] cert_file.
        case token(PKCS11URI)
    }

    public var key: KeyStorage = .file
    /// The token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).
    public var pkcs11Module: String?
    /// A file (mode 0600) holding the token's user PIN.
    public var pinFile: String?
    /// Renew the device certificate when it expires within this many days; 0: only when a job
    /// asks (a rotate-certificate job).
    public var rotateBeforeDays = 30

    public init() {}

    static let keys = ["key", "pkcs11_module", "pin_file", "rotate_before_days"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        let s = "credentials"
        if let (text, line) = reader.string(table, s, "key") {
            if text != "file" {
                do { key = .token(try PKCS11URI(parsing: text)) } catch {
                    reader.fail(line, "credentials.key", "\"\(text)\" " + (PKCS11URI.looksLikeURI(text)
                        ? error.description : "must be \"file\" or a PKCS#11 URI (pkcs11:token=LABEL;object=LABEL)"))
                }
            }
        }
        for (key, path) in [("pkcs11_module", \CredentialsConfig.pkcs11Module), ("pin_file", \.pinFile)] {
            if let (file, line) = reader.string(table, s, key) {
                if file.hasPrefix("/") { self[keyPath: path] = file } else {
                    reader.fail(line, "credentials.\(key)", "\"\(file)\" must be an absolute path")
                }
            }
        }
        if let days = reader.integer(table, s, "rotate_before_days", range: 0...3650) { rotateBeforeDays = Int(days) }
        reader.unknownKeys(in: table, section: s, known: Self.keys)
    }

    /// Whether any key of the configuration is in a token (so the module and PIN are needed).
    public static func usesToken(_ config: TrackerConfig) -> Bool {
        if case .token = config.credentials.key { return true }
        if case .token = config.provisioning?.claimKeyStorage { return true }
        return false
    }

    /// Checks that need more than this section: a token key needs its module and PIN, and
    /// provisioning that keeps the key in a token must use a CSR.
    /// `keyLine`, `claimLine`: where the file sets `[credentials] key` and `[provisioning] claim_key`.
    static func check(_ config: TrackerConfig, keyLine: Int?, claimLine: Int?, _ reader: ConfigReader) {
        let line = keyLine ?? claimLine ?? 1
        if usesToken(config) {
            if config.credentials.pkcs11Module == nil {
                reader.fail(line, "credentials.pkcs11_module", "a key in a token needs the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so or /usr/lib/aarch64-linux-gnu/pkcs11/libtpm2_pkcs11.so")
            }
            if config.credentials.pinFile == nil {
                reader.fail(line, "credentials.pin_file", "a key in a token needs the file (mode 0600) that holds the token's user PIN")
            }
        }
        if case .token = config.credentials.key, config.provisioning?.method == .createKeys {
            reader.fail(line, "credentials.key", "a key in a token needs [provisioning] method = \"csr\": with \"create-keys\" AWS makes the key and sends it, so it would not stay in the token")
        }
    }
}
