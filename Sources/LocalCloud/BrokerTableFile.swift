import Foundation
import Synchronization

/// One of the broker ACL plugin's tables (`DIR/broker/identities`, `DIR/broker/replies`),
/// appended to as registrations and replies happen: each line written with one write(2) in
/// append mode, so the plugin, reading what was appended, sees whole lines and never a
/// rewritten file.
public final class BrokerTableFile: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let fd: Mutex<Int32>
    public let path: String

    /// `truncating`: start empty (the replies of a previous run are nobody's now).
    public init(path: String, truncating: Bool = false) throws(Failure) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncating ? O_TRUNC : 0), 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.fd = Mutex(fd)
    }

    deinit { fd.withLock { _ = close($0) } }

    /// A registered thing's identity line.
    public func append(_ thing: ThingRegistry.Thing) throws(Failure) {
        guard let line = BrokerACL.line(identity: thing.identity, thing: thing.thingName) else {
            throw Failure(description: "identity \"\(thing.identity)\" or thing name \"\(thing.thingName)\" cannot be a line of \(path)")
        }
        try append(line: line)
    }

    public func append(line: String) throws(Failure) {
        let bytes = Array(line.utf8)
        let written = fd.withLock { fd in bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        guard written == bytes.count else {
            throw Failure(description: "cannot append to \(path): \(written < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}
