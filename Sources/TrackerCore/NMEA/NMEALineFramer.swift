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

    private init(empty: Void) {}

    /// A framer with nothing allocated, to stand in while a decoder lends its own out.
    static var taken: NMEALineFramer { NMEALineFramer(empty: ()) }

    /// Any sequence of bytes; contiguous ones (arrays, slices, Data) take the fast path below,
    /// which this wrapper reaches without generic dispatch per byte from another module.
    @inlinable
    public mutating func push(_ bytes: some Sequence<UInt8>, _ emit: (Output) -> Void) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { push(buffer: $0, emit) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { push(buffer: $0, emit) } }
    }

    /// A line is handed out as a slice of the framer's own buffer, valid during `emit`: a
    /// consumer that keeps it costs a copy of the buffer at the next line.
    public mutating func push(buffer bytes: UnsafeBufferPointer<UInt8>, _ emit: (Output) -> Void) {
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

    /// Part of a line came and its end has not.
    public var holdsPartialLine: Bool { !buffer.isEmpty || discarding }

    /// Hands out a last line that had no line end (the end of a file).
    public mutating func finish(_ emit: (Output) -> Void) {
        if !discarding && !buffer.isEmpty {
            emit(.line(buffer[...]))
        }
        buffer.removeAll(keepingCapacity: true)
        discarding = false
    }
}
