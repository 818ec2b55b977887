/// Anything that yields fixes: gpsd, a serial receiver, a recorded file.
public protocol FixSource: Sendable {
    /// A short name for logs: `gpsd at localhost:2947`, `serial /dev/gps0 at 9600 baud`.
    var description: String { get }

    /// Hands each receiver cycle, no-fix cycles included, to `deliver` on the source's own
    /// thread as it completes — no task in between, since each hop between threads is a
    /// wake-up the board pays for — and `nil` once the source has ended (a replay at the end of
    /// its file; live sources reconnect and never end on their own). The closure returned
    /// stops the source; nothing is delivered after it returns but the final `nil`.
    func start(delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void
}

extension FixSource {
    /// The cycles as a stream, for a consumer that is a task. Ending the iteration (or
    /// cancelling its task) stops the source.
    public func fixes() -> AsyncStream<Fix> {
        let (stream, continuation) = AsyncStream.makeStream(of: Fix.self, bufferingPolicy: .unbounded)
        let stop = start { fix in
            if let fix { continuation.yield(fix) } else { continuation.finish() }
        }
        continuation.onTermination = { _ in stop() }
        return stream
    }
}
