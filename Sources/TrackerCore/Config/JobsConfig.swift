/// The `[jobs]` section: AWS IoT Jobs — packages and large zone sets over the air.
public struct JobsConfig: Sendable, Equatable {
    /// Take jobs (the device policy must allow the thing's job topics).
    public var enabled = true
    /// Downloads, the jobs' ledger, the kept zone set; shared with the update unit.
    public var directory = "/var/lib/trackerd/jobs"
    /// The CAs trusted for downloads; nil: the system's (/etc/ssl/certs), as S3 needs.
    public var caFile: String?

    public init() {}

    static let keys = ["enabled", "dir", "ca_file"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        if let value = table["enabled"] {
            if case .boolean(let flag) = value.kind { enabled = flag } else {
                reader.fail(value.line, "jobs.enabled", "expected true or false, found \(value.typeName)")
            }
        }
        for (key, path) in [("dir", \JobsConfig.directory)] {
            if let (text, line) = reader.string(table, "jobs", key) {
                if text.hasPrefix("/") { self[keyPath: path] = text } else { reader.fail(line, "jobs.\(key)", "\"\(text)\" must be an absolute path") }
            }
        }
        if let (text, line) = reader.string(table, "jobs", "ca_file") {
            if text.hasPrefix("/") { caFile = text } else { reader.fail(line, "jobs.ca_file", "\"\(text)\" must be an absolute path") }
        }
        reader.unknownKeys(in: table, section: "jobs", known: Self.keys)
    }
}
