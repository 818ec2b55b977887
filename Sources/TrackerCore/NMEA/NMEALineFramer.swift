/// Cuts a receiver's byte stream into lines.
///
/// Real captures end lines with LF, CRLF, CR CR LF or a mix, so any CR or LF ends a line and
/// empty lines vanish. A line that grows past `maxLineLength` (a UART at the wrong baud, a
/// binary protocol on the port) is dropped up to its next line end and reported once.
public struct NMEALineFramer: Sendable {
    public static let maxLineLength = 1024

    public enum Output: Equatable, Sendable {
        case line(ArraySlice<UInt8>)
        case tooLong
    }

    private var buffer: [UInt8] = []
    private var discarding = false

    public init() {
        buffer.reserveCapacity(128)
    }

    public mutating func push(_ bytes: some Sequence<UInt8>, _ emit: (Output) -> Void) {
        for byte in bytes {
            if byte == 0x0A || byte == 0x0D {
                if discarding {
                    discarding = false
                } else if !buffer.isEmpty {
                    emit(.line(buffer[...]))
                }
                buffer.removeAll(keepingCapacity: true)
            } else if !discarding {
                if buffer.count == Self.maxLineLength {
                    buffer.removeAll(keepingCapacity: true)
                    discarding = true
                    emit(.tooLong)
                } else {
                    buffer.append(byte)
                }
            }
        }
    }

    /// Hands out a last line that had no line end (the end of a file).
    public mutating func finish(_ emit: (Output) -> Void) {
        if !discarding && !buffer.isEmpty {
            emit(.line(buffer[...]))
        }
        buffer.removeAll(keepingCapacity: true)
        discarding = false
    }
}
