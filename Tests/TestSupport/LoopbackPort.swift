import Foundation
import Synchronization

/// Loopback TCP ports for the servers a test starts.
public enum LoopbackPort {
    /// A port that was free a moment ago, for a server a test starts next. Taken below the
    /// kernel's ephemeral range (32768 and up), where outgoing connections of tests running in
    /// parallel take their local ports, and never handed out twice in one run.
    public static func free() -> Int {
        while true {
            let candidate = handedOut.withLock { ports -> Int in
                var port: Int
                repeat { port = Int.random(in: 20_000..<32_000) } while ports.contains(port)
                ports.insert(port)
                return port
            }
            if let listener = try? TCPListener(port: candidate) {
                listener.close()
                return candidate
            }
        }
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// True when something accepts connections on 127.0.0.1:`port` right now.
    public static func isAccepting(_ port: Int) -> Bool {
        guard let fd = connect(port) else { return false }
        Glibc.close(fd)
        return true
    }

    /// A TCP connection to 127.0.0.1:`port`, or nil if it is refused.
    public static func connect(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }
}

extension sockaddr_in {
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A listening TCP socket on 127.0.0.1 (port 0 picks a free one).
public final class TCPListener: Sendable {
    public let fd: Int32
    public let port: Int

    public struct SocketError: Error { public let call: String; public let errno: Int32 }

    public init(port: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw SocketError(call: "bind/listen", errno: errno) }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    /// Blocks until a client connects; nil once the listener is closed.
    public func accept() -> Int32? {
        let client = Glibc.accept(fd, nil, nil)
        return client >= 0 ? client : nil
    }

    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
