import Foundation
import Synchronization
import TrackerCore
import TrackerSystem

/// The dashboard's `FleetView`, shared by the threads that feed it (the rules subscription, the
/// broker's log, provisioning, jobs, shadows) and the event streams that follow it: each stream
/// listens with a pipe of its own, signalled on every change.
public final class FleetActivity: Sendable {
    private let view: Mutex<FleetView>
    private let listeners = Mutex<(next: Int, pipes: [Int: WakePipe])>((0, [:]))

    public init(_ view: FleetView = FleetView()) {
        self.view = Mutex(view)
    }

    public func update(_ change: (inout FleetView) -> Void) {
        view.withLock { change(&$0) }
        for pipe in listeners.withLock({ Array($0.pipes.values) }) { pipe.signal() }
    }

    public func read<T>(_ body: (FleetView) -> T) -> T {
        view.withLock { body($0) }
    }

    /// A pipe signalled on every change from now on, until `stopListening(token)`.
    public func listen() -> (token: Int, news: WakePipe) {
        let pipe = WakePipe()
        let token = listeners.withLock { state in
            state.next += 1
            state.pipes[state.next] = pipe
            return state.next
        }
        return (token, pipe)
    }

    public func stopListening(_ token: Int) {
        _ = listeners.withLock { $0.pipes.removeValue(forKey: token) }
    }

    public var listenerCount: Int { listeners.withLock { $0.pipes.count } }

    /// The tracks and events of the last `lastBytes` of DIR/received.jsonl, so a restarted
    /// localcloud shows what it had (connections start unknown: the broker starts afresh).
    /// Returns the number of lines read.
    @discardableResult
    public func replay(received path: String, lastBytes: Int = 8 << 20) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(lastBytes) ? size - UInt64(lastBytes) : 0
        try? handle.seek(toOffset: start)
        guard let data = try? handle.readToEnd() else { return 0 }
        var lines = data.split(separator: 0x0A)
        // Cut in the middle of a line: that line is not whole.
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        var count = 0
        view.withLock { view in
            for line in lines {
                guard let record = JSONValue.parse(Array(line)), case .string(let topic)? = record["topic"],
                      let payload = record["payload"], case .string(let receivedAt)? = record["receivedAt"] else { continue }
                view.received(topic: topic, clientID: record["clientId"]?.textValue, payload: payload, at: receivedAt)
                count += 1
            }
        }
        return count
    }
}
