/// The `[payload]` section.
public struct PayloadConfig: Sendable, Equatable {
    public var format: PayloadFormat = .gpsInput

    public init() {}

    static let keys = ["format"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        if let (text, line) = reader.string(table, "payload", "format") {
            if let format = PayloadFormat(rawValue: text) { self.format = format } else {
                reader.fail(line, "payload.format", "\"\(text)\" must be \"gpsInput\" or \"extended\"")
            }
        }
        reader.unknownKeys(in: table, section: "payload", known: Self.keys)
    }
}
