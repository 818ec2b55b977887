/// The `[gps]` section.
public struct GPSConfig: Sendable, Equatable {
    public static let baudRates = [4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

    public var source: GPSSourceKind = .gpsd
    public var gpsdHost = "localhost"
    public var gpsdPort = 2947
    /// The receiver's tty; /dev/gps0 is the name trackerd's udev rules give the first receiver.
    public var device = "/dev/gps0"
    public var baud = 9600
    public var replayFile: String?
    /// 1 is recorded speed, 10 ten times faster; 0 as fast as possible.
    public var replaySpeed = 1.0
    /// How long a fix stays current without a newer one.
    public var staleAfter: Duration = .seconds(5)

    public init() {}

    static let keys = ["source", "gpsd_host", "gpsd_port", "device", "baud", "replay_file", "replay_speed", "stale_after_s",
                       "min_interval_s", "min_distance_m"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        let s = "gps"
        if let (text, line) = reader.string(table, s, "source") {
            if let kind = GPSSourceKind(rawValue: text) { source = kind } else {
                reader.fail(line, "gps.source", "\"\(text)\" is not a source; use \"gpsd\", \"serial\" or \"replay\"")
            }
        }
        if let (host, line) = reader.string(table, s, "gpsd_host") {
            if host.isEmpty || host.contains(where: \.isWhitespace) {
                reader.fail(line, "gps.gpsd_host", "\"\(host)\" is not a host name or address")
            } else { gpsdHost = host }
        }
        if let port = reader.integer(table, s, "gpsd_port", range: 1...65535) { gpsdPort = Int(port) }
        if let (path, line) = reader.string(table, s, "device") {
            if path.hasPrefix("/") { device = path } else {
                reader.fail(line, "gps.device", "\"\(path)\" must be an absolute path such as /dev/ttyACM0")
            }
        }
        if let rate = reader.integer(table, s, "baud", range: 0...Int64.max) {
            if Self.baudRates.contains(Int(rate)) { baud = Int(rate) } else {
                reader.fail(reader.line(of: "baud", in: table), "gps.baud",
                            "\(rate) is not a supported baud rate (" + Self.baudRates.map(String.init).joined(separator: ", ") + ")")
            }
        }
        if let (path, line) = reader.string(table, s, "replay_file") {
            if path.isEmpty { reader.fail(line, "gps.replay_file", "must not be empty") } else { replayFile = path }
        }
        if let speed = reader.number(table, s, "replay_speed", range: 0...10_000) { replaySpeed = speed }
        if let seconds = reader.number(table, s, "stale_after_s", range: 0.1...86_400) {
            staleAfter = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if source == .replay && replayFile == nil && table["replay_file"] == nil {
            reader.fail(reader.line(of: "source", in: table), "gps.replay_file", "is required when gps.source = \"replay\"")
        }
        reader.unknownKeys(in: table, section: s, known: Self.keys)
    }
}
