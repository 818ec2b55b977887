/// The `[store]` section: where trackerd keeps its state (the queue; later, credentials).
public struct StoreConfig: Sendable, Equatable {
    public var directory = "/var/lib/trackerd"

    public init() {}

    static let keys = ["dir"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        if let (path, line) = reader.string(table, "store", "dir") {
            if path.hasPrefix("/") { directory = path } else {
                reader.fail(line, "store.dir", "\"\(path)\" must be an absolute path")
            }
        }
        reader.unknownKeys(in: table, section: "store", known: Self.keys)
    }
}
