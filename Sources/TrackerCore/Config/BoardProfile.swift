/// A supported board and receiver (`boards/NAME.toml`): the [gps] settings it needs and the
/// commands that set the receiver up when trackerd opens its port.
public struct BoardProfile: Sendable, Equatable {
    public var name: String
    public var uart: Bool
    public var configTxt: [String]
    public var source: GPSSourceKind
    public var device: String
    public var baud: Int
    /// NMEA sentences, sent as they are with CR LF.
    public var nmea: [String]
    /// UBX frames as bytes.
    public var ubx: [[UInt8]]
    /// AT commands for `atPort`, each sent with CR.
    public var at: [String]
    public var atPort: String?

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(toml text: String, file: String) throws(Invalid) {
        try self.init(toml: Array(text.utf8), file: file)
    }

    /// The file as read from disk (not valid UTF-8: an error with its line).
    public init(toml bytes: [UInt8], file: String) throws(Invalid) {
        let root: TOMLTable
        do { root = try TOMLParser.parse(bytes: bytes) } catch { throw Invalid(description: "\(file):\(error.line): \(error.message)") }
        func string(_ table: TOMLTable, _ key: String) -> String? {
            if case .string(let s)? = table[key]?.kind { s } else { nil }
        }
        func strings(_ table: TOMLTable, _ key: String) -> [String] {
            guard case .array(let items)? = table[key]?.kind else { return [] }
            return items.compactMap { if case .string(let s) = $0.kind { s } else { nil } }
        }
        guard let name = string(root, "name") else { throw Invalid(description: "\(file): no name") }
        guard case .table(let gps)? = root["gps"]?.kind,
              let sourceText = string(gps, "source"), let source = GPSSourceKind(rawValue: sourceText),
              let device = string(gps, "device"), case .integer(let baud)? = gps["baud"]?.kind,
              GPSConfig.baudRates.contains(Int(baud)) else {
            throw Invalid(description: "\(file): [gps] needs source, device and a supported baud")
        }
        var initTable = TOMLTable(line: 0)
        if case .table(let table)? = root["init"]?.kind { initTable = table }
        self.name = name
        uart = root["uart"]?.kind == .boolean(true)
        configTxt = strings(root, "config_txt")
        self.source = source
        self.device = device
        self.baud = Int(baud)
        nmea = strings(initTable, "nmea")
        at = strings(initTable, "at")
        atPort = string(initTable, "at_port")
        var frames: [[UInt8]] = []
        for frame in strings(initTable, "ubx") {
            let bytes = frame.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            guard bytes.count == frame.split(separator: " ").count else { throw Invalid(description: "\(file): UBX frame \(frame) is not hex bytes") }
            frames.append(bytes)
        }
        ubx = frames
    }

    /// What to write to the receiver's port after opening it, in order.
    public var portCommands: [[UInt8]] {
        nmea.map { Array(($0 + "\r\n").utf8) } + ubx
    }

    /// The profile's receiver settings over `gps`.
    public func apply(to gps: GPSConfig) -> GPSConfig {
        var out = gps
        out.source = source
        out.device = device
        out.baud = baud
        return out
    }
}
