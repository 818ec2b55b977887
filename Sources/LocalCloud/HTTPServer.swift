import Foundation
import Synchronization
import TrackerSystem

/// localcloud's small HTTP/1.1 server for the dashboard and its API: loopback only, a thread
/// per connection (at most `maximumConnections`, more get 503), GET and HEAD, one request per
/// connection, except an event stream, which lives until its client or the server goes.
/// A client that sends nothing for 10 s, or does not read for 10 s, is dropped.
public final class HTTPServer: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The port it listens on (the one asked for, or the kernel's choice for 0).
    public let port: Int
    private let listener: Int32
    private let stopping = WakePipe()
    private let stopped = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    private let maximumConnections: Int
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse

    public init(port: Int, maximumConnections: Int = 64, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws(StartError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "cannot make a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError(description: "cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        self.maximumConnections = maximumConnections
        self.handler = handler
        let server = self
        Thread.detachNewThread { server.acceptLoop() }
    }

    /// Stops accepting, and ends every event stream; requests under way finish.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopping.signal()
        // Wakes the accept(2) the loop sleeps in; the loop closes the socket.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if stopped.load(ordering: .acquiring) {
                if client >= 0 { close(client) }
                break
            }
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { continue }
                break
            }
            if connections.wrappingAdd(1, ordering: .relaxed).newValue > maximumConnections {
                connections.wrappingSubtract(1, ordering: .relaxed)
                _ = Self.sendAll(client, Self.complete(.error(503, "too many connections"), head: false))
                close(client)
                continue
            }
            Thread.detachNewThread { [self] in
                serve(client)
                close(client)
                connections.wrappingSubtract(1, ordering: .relaxed)
            }
        }
        close(listener)
    }

    private func serve(_ client: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let head = readHead(client) else {
            _ = Self.sendAll(client, Self.complete(.error(431, "the request head is over \(HTTPRequest.maximumHeadSize) bytes"), head: false))
            return
        }
        if head.isEmpty { return }
        let request: HTTPRequest
        do { request = try HTTPRequest(head: head) } catch {
            _ = Self.sendAll(client, Self.complete(.error(400, error.description), head: false))
            return
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var refusal = HTTPResponse.error(405, "\(request.method) is not served here: GET or HEAD")
            refusal.headers.append(("Allow", "GET, HEAD"))
            _ = Self.sendAll(client, Self.complete(refusal, head: false))
            return
        }
        let response = handler(request)
        if let stream = response.stream, request.method == "GET" {
            guard Self.sendAll(client, response.head()) else { return }
            stream(HTTPStream(socket: client, stopping: stopping.readEnd))
        } else {
            _ = Self.sendAll(client, Self.complete(response, head: request.method == "HEAD"))
        }
    }

    static func complete(_ response: HTTPResponse, head: Bool) -> [UInt8] {
        var response = response
        response.stream = nil
        return response.head() + (head ? [] : response.body)
    }

    /// The bytes up to the blank line; empty if the client closed or timed out first; nil if
    /// the head is too long.
    private func readHead(_ client: Int32) -> [UInt8]? {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count <= HTTPRequest.maximumHeadSize {
            let n = recv(client, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return [] }
            let searchFrom = max(0, head.count - 3)
            head.append(contentsOf: buffer[0..<n])
            if let end = Self.endOfHead(head, from: searchFrom) { return end <= HTTPRequest.maximumHeadSize ? Array(head[..<end]) : nil }
        }
        return nil
    }

    /// Where the blank line ends (CR LF CR LF, or LF LF).
    static func endOfHead(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    static func sendAll(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }
}
