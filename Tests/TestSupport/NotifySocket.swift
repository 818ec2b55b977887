import Foundation

/// A datagram socket a test owns and hands to trackerd as `NOTIFY_SOCKET`, collecting what
/// trackerd tells systemd.
public final class NotifySocket: Sendable {
    public let path: String
    public let messages = EventLog<String>()
    private let fd: Int32

    public init(directory: TemporaryDirectory) throws {
        path = directory.file("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in bytes.enumerated() { buffer[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        self.fd = fd
        let messages = self.messages
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }
    }

    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
