/// The `[device]` section.
public struct DeviceConfig: Sendable, Equatable {
    /// The device id in payloads (`gpsDeviceID`). `nil`: the board's serial number, resolved at start.
    public var id: String?
    /// A profile in boards/ (receiver, port, baud, init commands), e.g. "rpi-adafruit-gps-hat".
    public var board: String?

    public init() {}

    static let keys = ["id", "board"]

    init(_ table: TOMLTable, _ reader: ConfigReader) {
        if let (text, line) = reader.string(table, "device", "id") {
            let allowed = text.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
            }
            if text.isEmpty || text.utf8.count > 128 || !allowed {
                reader.fail(line, "device.id", "\"\(text)\" must be 1 to 128 characters of A-Z a-z 0-9 - _ . :")
            } else {
                id = text
            }
        }
        if let (name, line) = reader.string(table, "device", "board") {
            if name.isEmpty || name.contains("/") || name.hasPrefix(".") {
                reader.fail(line, "device.board", "\"\(name)\" must be a profile name such as \"rpi-adafruit-gps-hat\"")
            } else { board = name }
        }
        reader.unknownKeys(in: table, section: "device", known: Self.keys)
    }
}
