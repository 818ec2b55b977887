/// GSV: satellites in view, sent as a numbered sequence of messages.
public struct GSVSentence: Sendable, Equatable {
    public var messageCount: Int
    public var messageNumber: Int
    public var satellitesInView: Int?

    public init(_ s: NMEASentence) throws(NMEAFieldError) {
        guard let count = try NMEAField.int(s[0], "GSV message count", 1...99), count >= 1 else {
            throw NMEAFieldError(field: "GSV message count", value: s[0])
        }
        guard let number = try NMEAField.int(s[1], "GSV message number", 1...99), (1...count).contains(number) else {
            throw NMEAFieldError(field: "GSV message number", value: s[1])
        }
        messageCount = count
        messageNumber = number
        satellitesInView = try NMEAField.int(s[2], "satellites in view", FixRanges.satellites)
    }

    public var isLastOfSequence: Bool { messageNumber == messageCount }
}
