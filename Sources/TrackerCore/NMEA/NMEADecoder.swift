/// Bytes from a receiver in, fixes out: framing, checksums, sentences and cycles, with every
/// line that could not be used counted by reason. It never throws and never traps on input.
public struct NMEADecoder: Sendable {
    private var framer = NMEALineFramer()
    private var assembler = EpochAssembler()
    public private(set) var statistics = NMEAStatistics()

    public init() {}

    /// Contiguous bytes take the fast path without generic dispatch per byte (see the framer).
    @inlinable
    public mutating func push(_ bytes: some Sequence<UInt8>, _ emit: (Fix) -> Void) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { push(buffer: $0, emit) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { push(buffer: $0, emit) } }
    }

    /// Each line is decoded as the framer hands it out, not collected first: a line kept past
    /// the framer's next one would cost a copy of its buffer.
    public mutating func push(buffer bytes: UnsafeBufferPointer<UInt8>, _ emit: (Fix) -> Void) {
        var framer = NMEALineFramer.taken
        swap(&framer, &self.framer)
        framer.push(buffer: bytes) { handle($0, emit) }
        swap(&framer, &self.framer)
    }

    /// End of input: the last line and the last cycle.
    public mutating func finish(_ emit: (Fix) -> Void) {
        var lines: [NMEALineFramer.Output] = []
        framer.finish { lines.append($0) }
        for line in lines { handle(line, emit) }
        flush(emit)
    }

    /// No cycle is open and no line begun: the last cycle is out (its learned last sentence
    /// came), so a reader needs no timer to finish one, and the receiver is quiet until the next.
    public var isBetweenCycles: Bool { !assembler.hasOpenCycle && !framer.holdsPartialLine }

    /// The receiver went quiet: hand out the cycle in progress.
    public mutating func flush(_ emit: (Fix) -> Void) {
        var fixes: [Fix] = []
        assembler.flush { fixes.append($0) }
        deliver(fixes, emit)
    }

    /// Decodes a whole capture.
    public static func decode(_ bytes: some Sequence<UInt8>) -> (fixes: [Fix], statistics: NMEAStatistics) {
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        decoder.push(bytes) { fixes.append($0) }
        decoder.finish { fixes.append($0) }
        return (fixes, decoder.statistics)
    }

    private mutating func handle(_ output: NMEALineFramer.Output, _ emit: (Fix) -> Void) {
        switch output {
        case .tooLong:
            statistics.rejected[.tooLong, default: 0] += 1
        case .line(let line):
            switch NMEASentence.parse(line: line) {
            case .blank: break
            case .comment: statistics.comments += 1
            case .rejected(let reason): statistics.rejected[reason, default: 0] += 1
            case .sentence(let sentence, let skipped):
                if skipped { statistics.rejected[.garbage, default: 0] += 1 }
                do {
                    guard let message = try NMEAMessage(sentence) else {
                        statistics.sentences["other", default: 0] += 1
                        return
                    }
                    statistics.sentences[String(sentence.formatter), default: 0] += 1
                    var fixes: [Fix] = []
                    assembler.add(message, address: sentence.address) { fixes.append($0) }
                    deliver(fixes, emit)
                } catch {
                    statistics.rejected[.malformed, default: 0] += 1
                }
            }
        }
    }

    private mutating func deliver(_ fixes: [Fix], _ emit: (Fix) -> Void) {
        for fix in fixes {
            if fix.hasPosition { statistics.fixes += 1 } else { statistics.noFixes += 1 }
            emit(fix)
        }
    }
}
