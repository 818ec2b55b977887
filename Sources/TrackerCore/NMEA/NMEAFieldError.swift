/// A field of a checksum-valid sentence that cannot be read.
public struct NMEAFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let value: String

    public init(field: String, value: Substring) {
        self.field = field
        self.value = String(value)
    }

    public var description: String { "cannot read \(field) from \"\(value)\"" }
}
