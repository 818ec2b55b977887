import Foundation

/// A minimal HTTP/1.1 server on loopback that records each POST body, answering the first
/// `failures` requests with 500 (to exercise retries) and the rest with 200.
public final class HTTPRecorder: Sendable {
    public let listener: TCPListener
    public let bodies = EventLog<String>()
    public let statuses = EventLog<Int>()
    public var url: String { "http://127.0.0.1:\(listener.port)/events" }

    public init(failures: Int = 0) throws {
        listener = try TCPListener()
        let listener = self.listener, bodies = self.bodies, statuses = self.statuses
        Thread.detachNewThread {
            var served = 0
            while let client = listener.accept() {
                var data: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                var body = ""
                while true {
                    let n = recv(client, &chunk, chunk.count, 0)
                    if n <= 0 { break }
                    data += chunk[0..<n]
                    let text = String(decoding: data, as: UTF8.self)
                    guard let end = text.range(of: "\r\n\r\n") else { continue }
                    let header = text[..<end.lowerBound].lowercased()
                    let length = header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    let bodyBytes = data.count - (text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound.samePosition(in: text.utf8)!))
                    if bodyBytes >= length {
                        body = String(text[end.upperBound...])
                        break
                    }
                }
                served += 1
                let status = served <= failures ? 500 : 200
                let reply = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(client)
                statuses.append(status)
                if status == 200 { bodies.append(body) }
            }
        }
    }

    public func stop() { listener.close() }
}
