/// One problem in a configuration file, located so an operator can go straight to it:
/// `/etc/trackerd/trackerd.toml:14: gps.baud: 1234 is not a standard baud rate (4800, 9600, ...)`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    /// The dotted key (`gps.baud`) or the section (`[mqtt]`); `nil` for a syntax error.
    public let key: String?
    public let message: String

    public init(file: String, line: Int, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// One line, whatever the file holds: a key or value with a newline is shown escaped.
    public var description: String {
        ControlCharacters.escaped("\(file):\(line): " + (key.map { "\($0): " } ?? "") + message)
    }
}
