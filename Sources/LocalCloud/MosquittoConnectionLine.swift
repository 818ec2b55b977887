import Foundation

/// A connection line of Mosquitto's log (`connection_messages true`): a client connected, or its
/// connection ended (closed, timed out, refused, taken over by a new one). The broker's own view,
/// at once, where the presence topic's will comes only after 1.5 keepalives: the role of AWS IoT
/// Core's lifecycle events.
public enum MosquittoConnectionLine: Sendable, Equatable {
    case connected(clientID: String)
    /// `reason`: Mosquitto's words after the client id (`disconnected.`, `has exceeded timeout, disconnecting.`).
    case disconnected(clientID: String, reason: String)

    /// Endings Mosquitto 2.0 logs after `Client ID`; "already connected, closing old connection"
    /// is not one: the same id's new connection is logged next, and the old one says nothing more.
    /// The longer first: "been disconnected" holds "disconnected".
    static let endings = [" been disconnected", " has exceeded timeout", " closed its connection", " disconnected"]

    /// nil for any other line.
    public init?(_ line: String) {
        if let start = line.range(of: "New client connected from "), let at = line[start.upperBound...].range(of: " as "),
           let end = line[at.upperBound...].range(of: " (p", options: .backwards) {
            self = .connected(clientID: String(line[at.upperBound..<end.lowerBound]))
            return
        }
        if let start = line.range(of: "Socket error on client "), let end = line[start.upperBound...].range(of: ", disconnecting.", options: .backwards) {
            self = .disconnected(clientID: String(line[start.upperBound..<end.lowerBound]), reason: "socket error")
            return
        }
        guard let start = line.range(of: ": Client ") ?? (line.hasPrefix("Client ") ? line.range(of: "Client ") : nil) else { return nil }
        let rest = line[start.upperBound...]
        for ending in Self.endings {
            if let end = rest.range(of: ending) {
                let reason = rest[end.lowerBound...].dropFirst().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                self = .disconnected(clientID: String(rest[..<end.lowerBound]), reason: reason)
                return
            }
        }
        return nil
    }
}
