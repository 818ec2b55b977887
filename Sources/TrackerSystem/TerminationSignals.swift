import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// SIGTERM and SIGINT as a call instead of the default death, so that `trackerd run` stops
/// cleanly (the queue written, "offline" said, the connection closed) when systemd stops it or
/// someone presses Ctrl-C. libdispatch delivers them through its signalfd: no thread of ours
/// waits, and nothing wakes until a signal comes.
public final class TerminationSignals: Sendable {
    private let sources: [DispatchSource]

    /// `handler` runs on a dispatch queue, once per signal, until `cancel`.
    public init(_ handler: @escaping @Sendable (Int32) -> Void) {
        sources = [SIGTERM, SIGINT].compactMap { number in
            // Dispatch's signal sources are always `DispatchSource`s.
            guard let source = DispatchSource.makeSignalSource(signal: number, queue: .global()) as? DispatchSource else { return nil }
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    public func cancel() {
        for source in sources { source.cancel() }
    }
}
