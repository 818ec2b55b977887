/// What a decoder has seen: the numbers `trackerd decode` prints and `run` reports.
public struct NMEAStatistics: Sendable, Equatable {
    /// Checksum-valid sentences by formatter (`GGA`, `RMC`, ..., or `other`).
    public var sentences: [String: Int] = [:]
    public var rejected: [NMEARejection: Int] = [:]
    public var comments = 0
    public var fixes = 0
    public var noFixes = 0

    public init() {}

    public var sentencesRead: Int { sentences.values.reduce(0, +) }
    public var rejectedLines: Int { rejected.values.reduce(0, +) }

    /// `10104 sentences (GGA 2526, GSA 2526, ...), 2481 fixes, 60 no-fix, rejected 12 (bad-checksum 10, truncated 2)`
    public var summary: String {
        let bySentence = sentences.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var text = "\(sentencesRead) sentences" + (bySentence.isEmpty ? "" : " (\(bySentence))")
        text += ", \(fixes) fixes, \(noFixes) no-fix, rejected \(rejectedLines)"
        if !rejected.isEmpty {
            text += " (" + rejected.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }
                .joined(separator: ", ") + ")"
        }
        return text
    }
}
