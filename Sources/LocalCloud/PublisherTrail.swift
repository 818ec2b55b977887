import Foundation
import Synchronization

/// Who published what, read from Mosquitto's own debug log ("Received PUBLISH from CLIENT
/// (d0, q1, r0, m3, 'TOPIC', ... (95 bytes))"): a subscriber is never told the publisher's
/// client id, and AWS's rules engine offers `clientid()`, so localcloud reconstructs it.
/// Messages are matched by topic and size, oldest first; entries older than 10 s are dropped.
public final class PublisherTrail: Sendable {
    struct Entry {
        let clientID: String
        let topic: String
        let size: Int
        let at: Date
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// A line of Mosquitto's debug log not worth showing: the packets of every message.
    public static func isPacketNoise(_ line: String) -> Bool {
        line.contains("Received PUBLISH from ") || line.contains("Sending PUBLISH to ") || line.contains(" PINGREQ ")
            || line.contains(" PINGRESP ") || line.contains("Sending PUBACK") || line.contains("Received PUBACK")
            || line.contains("Sending SUBACK") || line.contains("Received SUBSCRIBE") || line.contains("Sending CONNACK")
            || line.contains("Received DISCONNECT") || line.contains("Sending PINGRESP") || line.contains("Received PINGREQ")
            || line.hasSuffix(" (QoS 1)") || line.contains("Sending PUBREC") || line.contains("Received PUBREL")
    }

    /// A publish Mosquitto logged.
    public func record(_ publish: MosquittoPublishLine) {
        let entry = Entry(clientID: publish.clientID, topic: publish.topic, size: publish.size, at: Date())
        entries.withLock { entries in
            entries.removeAll { entry.at.timeIntervalSince($0.at) > 10 }
            entries.append(entry)
        }
    }

    /// The publisher of a message with this topic and size, waiting up to `patience` for
    /// Mosquitto's line: the broker logs a PUBLISH before it forwards it, but its log reaches
    /// localcloud through a pipe that a loaded machine drains late.
    public func publisher(topic: String, size: Int, patience: Duration) async -> String? {
        let deadline = ContinuousClock.now + patience
        while true {
            if let client = take(topic: topic, size: size) { return client }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The publisher of a message with this topic and size, if Mosquitto has logged it.
    public func take(topic: String, size: Int) -> String? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.topic == topic && $0.size == size }) else { return nil }
            return entries.remove(at: index).clientID
        }
    }
}
