import Foundation
import Synchronization
import TestSupport
import TrackerSystem

/// A TCP relay between one client and a broker on loopback that can stop the broker's bytes
/// after a given count, in the middle of a TLS record, until the test lets the rest through.
final class SplittingRelay: Sendable {
    let port: Int
    private let listener: TCPListener
    private let state = Mutex<(allowance: Int?, forwarded: Int, held: [UInt8])>((nil, 0, []))
    private let upstreamPort: Int
    /// Bytes forwarded to the client so far (an event a test waits on).
    let forwarded = EventLog<Int>()
    private let clientFD = Mutex<Int32>(-1)

    init(to upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        port = LoopbackPort.free()
        listener = try TCPListener(port: port)
        let relay = self
        _ = ReaderThread.start(name: "test-relay") { relay.run() }
    }

    /// From now on, at most `bytes` more of the broker's bytes reach the client.
    func hold(after bytes: Int) { state.withLock { $0.allowance = bytes } }

    /// Lets what was held, and all that follows, through.
    func release() {
        let (fd, held) = (clientFD.withLock { $0 }, state.withLock { state -> [UInt8] in
            defer { state = (nil, state.forwarded + state.held.count, []) }
            return state.held
        })
        if !held.isEmpty { _ = held.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        forwarded.append(held.count)
    }

    private func run() {
        guard let client = listener.accept() else { return }
        clientFD.withLock { $0 = client }
        guard let upstream = LoopbackPort.connect(upstreamPort) else { return }
        _ = ReaderThread.start(name: "test-relay-up") { Self.pump(from: client, to: upstream) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(upstream, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            let bytes = Array(buffer[0..<count])
            let pass = state.withLock { state -> [UInt8] in
                guard let allowance = state.allowance else { return bytes }
                let through = Array(bytes.prefix(max(0, allowance)))
                state.held += bytes.dropFirst(through.count)
                state.allowance = allowance - through.count
                return through
            }
            if !pass.isEmpty { _ = pass.withUnsafeBytes { write(client, $0.baseAddress, $0.count) } }
            forwarded.append(pass.count)
        }
        close(client)
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            _ = buffer.withUnsafeBytes { write(destination, $0.baseAddress, count) }
        }
        close(destination)
    }
}
