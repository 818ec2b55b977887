import Foundation
import Synchronization

/// The broker ACL's table of identities (`DIR/broker/identities`), appended to at each
/// registration: one line written with one write(2) in append mode, so the broker's plugin,
/// reading what was appended, sees whole lines and never a rewritten file.
public final class BrokerIdentityTable: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let fd: Mutex<Int32>
    public let path: String

    public init(path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.fd = Mutex(fd)
    }

    deinit { fd.withLock { _ = close($0) } }

    public func append(_ thing: ThingRegistry.Thing) throws(Failure) {
        guard let line = BrokerACL.line(identity: thing.identity, thing: thing.thingName) else {
            throw Failure(description: "identity \"\(thing.identity)\" or thing name \"\(thing.thingName)\" cannot be a line of \(path)")
        }
        let bytes = Array(line.utf8)
        let written = fd.withLock { fd in bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        guard written == bytes.count else {
            throw Failure(description: "cannot append to \(path): \(written < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }
}
