/// An SQLite write-ahead log read the way SQLite recovers it (sqlite.org/fileformat2.html,
/// "The WAL file format"), to see what SQLite itself would silently drop: frames after the first
/// one whose checksum or salt fails are ignored at recovery, committed or not.
///
/// A torn tail (a crash in the middle of a commit) is normal: those frames never committed.
/// Damage is a *commit* frame of the current generation (the header's salts) beyond the valid
/// prefix: transactions that were durable are about to be lost.
public struct SQLiteWAL: Sendable {
    public struct Frame: Sendable, Equatable {
        public let pageNumber: UInt32
        /// The database size in pages for the last frame of a transaction, else 0.
        public let commitSize: UInt32
        /// Where the page image starts in the WAL.
        public let offset: Int
        /// Same salts as the WAL header: written in this generation, not left over from an
        /// earlier one that a checkpoint restarted.
        public let currentGeneration: Bool
    }

    public let pageSize: Int
    public let frames: [Frame]
    /// Frames SQLite will use: up to the last commit frame before the first bad checksum.
    public let validFrames: Int

    /// nil when the bytes are not a WAL (no magic, or a header that fails its own checksum).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 32 else { return nil }
        let magic = Self.uint32(bytes, 0)
        guard magic & 0xFFFF_FFFE == 0x377F_0682 else { return nil }
        let bigEndian = magic & 1 == 1
        let size = Int(Self.uint32(bytes, 8))
        guard size >= 512, size <= 65_536, size & (size - 1) == 0 else { return nil }
        var sum = Self.checksum(bytes, 0..<24, bigEndian: bigEndian, start: (0, 0))
        guard sum == (Self.uint32(bytes, 24), Self.uint32(bytes, 28)) else { return nil }
        let salts = (Self.uint32(bytes, 16), Self.uint32(bytes, 20))
        var frames: [Frame] = []
        var valid = 0
        var checksumsHold = true
        var offset = 32
        while offset + 24 + size <= bytes.count {
            let page = Self.uint32(bytes, offset), commit = Self.uint32(bytes, offset + 4)
            let current = (Self.uint32(bytes, offset + 8), Self.uint32(bytes, offset + 12)) == salts
            frames.append(Frame(pageNumber: page, commitSize: commit, offset: offset + 24, currentGeneration: current))
            if checksumsHold {
                sum = Self.checksum(bytes, offset..<(offset + 8), bigEndian: bigEndian, start: sum)
                sum = Self.checksum(bytes, (offset + 24)..<(offset + 24 + size), bigEndian: bigEndian, start: sum)
                if current, page != 0, sum == (Self.uint32(bytes, offset + 16), Self.uint32(bytes, offset + 20)) {
                    if commit != 0 { valid = frames.count }
                } else {
                    checksumsHold = false
                }
            }
            offset += 24 + size
        }
        pageSize = size
        self.frames = frames
        validFrames = valid
    }

    /// Committed frames of this generation that recovery will drop.
    public var lostFrames: ArraySlice<Frame> {
        guard let lastCommit = frames.lastIndex(where: { $0.currentGeneration && $0.commitSize != 0 }),
              lastCommit >= validFrames else { return [] }
        return frames[validFrames...lastCommit]
    }

    static func uint32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// SQLite's WAL checksum: two running sums over pairs of 32-bit words, in the byte order the
    /// magic number names.
    static func checksum(_ b: [UInt8], _ range: Range<Int>, bigEndian: Bool, start: (UInt32, UInt32)) -> (UInt32, UInt32) {
        var (s0, s1) = start
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let x0 = bigEndian ? uint32(b, i) : uint32(b, i).byteSwapped
            let x1 = bigEndian ? uint32(b, i + 4) : uint32(b, i + 4).byteSwapped
            s0 = s0 &+ x0 &+ s1
            s1 = s1 &+ x1 &+ s0
            i += 8
        }
        return (s0, s1)
    }
}
