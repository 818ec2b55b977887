import Foundation
import TrackerSystem

/// One event-stream connection of localcloud's web server, as the stream's body sees it: send
/// bytes, and sleep until there is news, the client goes away or the server stops.
public final class HTTPStream: Sendable {
    private let socket: Int32
    /// The server's stop pipe: readable once the server is stopping.
    private let stopping: Int32

    init(socket: Int32, stopping: Int32) {
        self.socket = socket
        self.stopping = stopping
    }

    /// False once the client cannot take it (gone, or not reading for the send timeout).
    public func send(_ bytes: [UInt8]) -> Bool {
        HTTPServer.sendAll(socket, bytes)
    }

    /// Sleeps until `news` is signalled or `milliseconds` pass; false when the stream should
    /// end: the client closed its side or the server is stopping.
    public func wait(for news: WakePipe, milliseconds: Int32) -> Bool {
        var watched = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: stopping, events: Int16(POLLIN), revents: 0)]
        news.wait(milliseconds: milliseconds, watching: &watched)
        if watched[1].revents != 0 { return false }
        if watched[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return false }
        if watched[0].revents & Int16(POLLIN) != 0 {
            // A stream's client has nothing to say: readable means it closed (0) or sent bytes to ignore.
            var sink = [UInt8](repeating: 0, count: 512)
            return recv(socket, &sink, sink.count, Int32(MSG_DONTWAIT)) > 0
        }
        return true
    }
}
