/// Anything that yields fixes: gpsd, a serial receiver, a recorded file.
public protocol FixSource: Sendable {
    /// A short name for logs: `gpsd at localhost:2947`, `serial /dev/gps0 at 9600 baud`.
    var description: String { get }

    /// Each receiver cycle as it completes, no-fix cycles included. Live sources never finish on
    /// their own (they reconnect); a replay finishes at the end of its file. Ending the iteration
    /// (or cancelling its task) stops the source.
    func fixes() -> AsyncStream<Fix>
}
