/// Every problem found in one file; the file is read to the end so all of them are reported at once.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public let errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
