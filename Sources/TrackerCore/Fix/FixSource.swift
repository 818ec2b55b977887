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

/// A source the daemon's loop can serve in its own sleep, without a thread of its own: a fix
/// then costs the board one wake-up (the loop's), not two (the source's thread, then the
/// loop's). `start(delivering:)` runs the same reader on a thread, for other consumers.
public protocol LoopServedFixSource: FixSource {
    /// A reader for the calling thread alone; it opens the source at its first `serve`.
    func makeReader() -> any FixReader
}

/// A loop-served source's side of the loop: what to wait for, and the work when woken. Used by
/// one thread only (not Sendable).
public protocol FixReader: AnyObject {
    /// The descriptor to wait on until it is readable (or hung up); -1 for none.
    var descriptor: Int32 { get }
    /// When to serve even if the descriptor stays quiet (a replay's next fix, a reopen after
    /// backoff, the flush of an epoch left open); nil: only when it is ready.
    var serveBy: MonotonicInstant? { get }
    /// Reads what is ready and does what is due: the cycles completed, in order, and whether
    /// the source has ended (a replay at the end of its file; live sources never end).
    func serve(now: MonotonicInstant) -> (fixes: [Fix], ended: Bool)
    /// Lets go of what it holds (the source is stopped).
    func close()
}
