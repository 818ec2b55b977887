import Foundation

/// One "Received PUBLISH" line of Mosquitto's debug log:
/// `1795995877: Received PUBLISH from CLIENT (d0, q1, r0, m1, 'TOPIC', ... (95 bytes))`.
/// A subscriber is never told who published; AWS's rules engine and limits are per client, so
/// localcloud reads them here.
public struct MosquittoPublishLine: Sendable, Equatable {
    /// Mosquitto's own timestamp (seconds since 1970), when it handled the PUBLISH.
    public var second: Int64?
    public var clientID: String
    public var topic: String
    public var size: Int

    public init(second: Int64?, clientID: String, topic: String, size: Int) {
        self.second = second
        self.clientID = clientID
        self.topic = topic
        self.size = size
    }

    /// nil for any other line.
    public init?(_ line: String) {
        guard let from = line.range(of: "Received PUBLISH from ") else { return nil }
        let rest = line[from.upperBound...]
        guard let space = rest.firstIndex(of: " "),
              let topicStart = rest.range(of: ", '"), let topicEnd = rest[topicStart.upperBound...].range(of: "', ", options: .backwards),
              let sizeStart = rest.range(of: "... (", options: .backwards),
              let sizeEnd = rest[sizeStart.upperBound...].range(of: " bytes))"),
              let size = Int(rest[sizeStart.upperBound..<sizeEnd.lowerBound]) else { return nil }
        let stamp = line[..<from.lowerBound].trimmingCharacters(in: .whitespaces)
        self.init(second: stamp.hasSuffix(":") ? Int64(stamp.dropLast()) : nil, clientID: String(rest[..<space]),
                  topic: String(rest[topicStart.upperBound..<topicEnd.lowerBound]), size: size)
    }
}
