import Foundation

/// Plays a receiver on a TCP port, the way gpsd reads `tcp://host:port` sources: each
/// connection gets the capture from its first line (comment lines left out), then is held open
/// until the client goes away. The capture is sent in one burst: gpsd decodes and reports
/// every sentence of a burst as it would at the receiver's own pace.
public final class NMEAFeedServer: Sendable {
    public let listener: TCPListener
    public var port: Int { listener.port }
    public let connections = EventLog<Int>()

    public init(capture: URL) throws {
        listener = try TCPListener()
        let text = try Data(contentsOf: capture)
        let lines = text.split(separator: 0x0A).filter { !$0.isEmpty && $0.first != UInt8(ascii: "#") }
            .map { Array($0) + [0x0A] }
        let listener = self.listener
        let connections = self.connections
        Thread.detachNewThread {
            var count = 0
            while let client = listener.accept() {
                count += 1
                connections.append(count)
                Thread.detachNewThread {
                    let burst = lines.flatMap { $0 }
                    var offset = 0
                    while offset < burst.count {
                        let sent = burst[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        if sent <= 0 { break }
                        offset += sent
                    }
                    var byte: UInt8 = 0
                    while recv(client, &byte, 1, 0) > 0 {}
                    close(client)
                }
            }
        }
    }

    public func stop() { listener.close() }
}
