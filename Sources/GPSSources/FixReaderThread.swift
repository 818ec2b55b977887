#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import TrackerCore
import TrackerSystem

/// A loop-served source's reader on a thread of its own, for a consumer that is not the
/// daemon's loop (`fixes()`, `trackerd decode`-like tools, tests): the thread sleeps in poll(2)
/// on the reader's descriptor and the stop flag until either is ready or the reader's
/// `serveBy` comes, as the daemon's loop does.
enum FixReaderThread {
    static func start(_ source: some LoopServedFixSource, thread name: String, logger: Logger,
                      delivering deliver: @escaping @Sendable (Fix?) -> Void) -> @Sendable () -> Void {
        ReaderThread.deliver(for: source.description, thread: name, logger: logger, { stop, emit in
            let reader = source.makeReader()
            defer { reader.close() }
            while !stop.isSet {
                let (fixes, ended) = reader.serve(now: .now)
                for fix in fixes { emit(fix) }
                if ended { return }
                var watched = [pollfd(fd: reader.descriptor, events: Int16(POLLIN), revents: 0)]
                stop.wait(until: reader.serveBy, watching: &watched)
            }
        }, to: deliver)
    }
}
