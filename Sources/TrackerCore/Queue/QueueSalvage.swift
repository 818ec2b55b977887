/// Messages read straight out of the pages of a damaged queue database or of WAL frames that
/// SQLite would drop, without SQLite: a table's leaf pages hold its rows whole, so every leaf
/// page that can still be parsed gives back its messages even when the b-tree above it, the
/// file header or the WAL's checksums are gone (sqlite.org/fileformat2.html, "B-tree Pages",
/// "Record Format").
///
/// Only rows of our shape count: rowid = seq, then (NULL, text topic, blob payload, integer
/// created_ms); rows of other shapes (the `meta` table, the schema) are passed over. A cell
/// that points outside its page, whose record does not parse, or whose topic or payload is not
/// control-free UTF-8 (all trackerd queues is JSON text) is counted as unreadable. Rows deleted before the damage may come back from pages SQLite had freed: at
/// least once, as everywhere in the queue.
public struct QueueSalvage: Sendable {
    public private(set) var messages: [Int64: OutboundMessage] = [:]
    /// Cells of leaf pages that could not be read as a message.
    public private(set) var unreadable = 0

    public init() {}

    /// Every page of a database file (its page size from the header when readable, else each
    /// size SQLite allows is tried).
    public mutating func scanDatabase(_ bytes: [UInt8]) {
        var sizes = [1024, 4096, 512, 2048, 8192, 16_384, 32_768, 65_536]
        if bytes.count >= 100, bytes.starts(with: Array("SQLite format 3\0".utf8)) {
            let declared = Int(bytes[16]) << 8 | Int(bytes[17])
            let size = declared == 1 ? 65_536 : declared
            if size >= 512, size & (size - 1) == 0 { sizes = [size] }
        }
        var best = QueueSalvage()
        for size in sizes {
            var attempt = QueueSalvage()
            var offset = 0
            while offset + size <= bytes.count {
                attempt.scanPage(bytes, at: offset, size: size, isFirst: offset == 0)
                offset += size
            }
            if attempt.messages.count > best.messages.count { best = attempt }
        }
        merge(best)
    }

    /// The page images of WAL frames; later frames replace earlier rows of the same seq.
    public mutating func scanFrames(_ wal: [UInt8], _ frames: some Sequence<SQLiteWAL.Frame>, pageSize: Int) {
        for frame in frames where frame.offset + pageSize <= wal.count {
            scanPage(wal, at: frame.offset, size: pageSize, isFirst: frame.pageNumber == 1)
        }
    }

    public mutating func merge(_ other: QueueSalvage) {
        messages.merge(other.messages) { _, new in new }
        unreadable += other.unreadable
    }

    /// Oldest first.
    public var sorted: [OutboundMessage] { messages.values.sorted { $0.sequence < $1.sequence } }

    mutating func scanPage(_ b: [UInt8], at start: Int, size: Int, isFirst: Bool) {
        let header = start + (isFirst ? 100 : 0)
        guard header + 8 <= start + size, b[header] == 0x0D else { return }
        let cells = Int(b[header + 3]) << 8 | Int(b[header + 4])
        guard header + 8 + 2 * cells <= start + size else { unreadable += cells; return }
        for c in 0..<cells {
            let pointer = Int(b[header + 8 + 2 * c]) << 8 | Int(b[header + 9 + 2 * c])
            switch Self.cell(b, start + pointer, end: start + size, usable: size) {
            case .message(let message): messages[message.sequence] = message
            case .otherShape: break
            case .damaged: unreadable += 1
            }
        }
    }

    enum Cell { case message(OutboundMessage), otherShape, damaged }

    static func cell(_ b: [UInt8], _ start: Int, end: Int, usable: Int) -> Cell {
        var i = start
        guard start > 0, let payloadSize = varint(b, &i, end), let rowid = varint(b, &i, end) else { return .damaged }
        // A payload larger than this spills to overflow pages, which are not followed.
        guard payloadSize >= 0, payloadSize <= Int64(usable - 35), i + Int(payloadSize) <= end else { return .damaged }
        let payloadEnd = i + Int(payloadSize)
        let recordStart = i
        guard let headerSize = varint(b, &i, payloadEnd), headerSize > 0, headerSize <= payloadSize else { return .damaged }
        let headerEnd = recordStart + Int(headerSize)
        var types: [Int64] = []
        while i < headerEnd {
            guard let type = varint(b, &i, headerEnd) else { return .damaged }
            types.append(type)
        }
        guard types.count == 4, types[0] == 0, types[1] >= 13, types[1] % 2 == 1, types[2] >= 12, types[2] % 2 == 0,
              [1, 2, 3, 4, 5, 6, 8, 9].contains(types[3]) else { return .otherShape }
        let topicLength = Int((types[1] - 13) / 2), payloadLength = Int((types[2] - 12) / 2)
        var v = headerEnd
        guard topicLength + payloadLength <= payloadEnd - v else { return .damaged }
        let topic = String(decoding: b[v..<(v + topicLength)], as: UTF8.self)
        v += topicLength
        let payload = Array(b[v..<(v + payloadLength)])
        // No checksum covers a row: text is the only test left. Every topic and payload trackerd
        // queues is UTF-8 text without control characters (JSON), so bytes overwritten with
        // zeros or noise show.
        guard rowid > 0, !topic.isEmpty, isText(b[(v - topicLength)..<v]), isText(payload[...]) else { return .damaged }
        return .message(OutboundMessage(sequence: rowid, topic: topic, payload: payload))
    }

    static func isText(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }) else { return false }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// SQLite's big-endian varint: 7 bits a byte, the ninth byte whole.
    static func varint(_ b: [UInt8], _ i: inout Int, _ end: Int) -> Int64? {
        var value: UInt64 = 0
        for n in 0..<9 {
            guard i < end, i < b.count else { return nil }
            let byte = b[i]
            i += 1
            if n == 8 { return Int64(bitPattern: value << 8 | UInt64(byte)) }
            value = value << 7 | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { return Int64(bitPattern: value) }
        }
        return nil
    }
}
