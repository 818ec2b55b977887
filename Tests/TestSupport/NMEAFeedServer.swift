import Foundation

/// Plays a receiver on a TCP port, the way gpsd reads `tcp://host:port` sources: each
/// connection gets the capture from its first line (comment lines left out), then is held open
/// until the client goes away. Lines are paced to a receiver's rate — that is the device being
/// simulated, not a wait on the code under test.
public final class NMEAFeedServer: Sendable {
    public let listener: TCPListener
    public var port: Int { listener.port }
    public let connections = EventLog<Int>()

    public init(capture: URL, microsecondsPerLine: UInt32 = 10_000) throws {
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
                    for line in lines {
                        let sent = line.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        if sent <= 0 { break }
                        usleep(microsecondsPerLine)  // receiver pacing
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
