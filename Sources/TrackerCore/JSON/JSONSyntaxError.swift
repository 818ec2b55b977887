/// Why a document is not JSON, and where: logged as it is with the document's name.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bytes from the start of the document.
    public let offset: Int
    public let reason: String

    public var description: String { "not JSON: \(reason) at byte \(offset)" }
}
