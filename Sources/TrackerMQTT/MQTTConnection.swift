#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMosquitto
import CTokenKey
import Logging
import Synchronization
import TrackerCore
import TrackerSystem

/// One MQTT client over TLS that keeps itself connected.
///
/// A thread of its own connects with the blocking `mosquitto_connect`, runs `mosquitto_loop`,
/// and after any failure waits a full-jitter backoff delay, reset once a session has stayed up
/// for `stableAfter` (`ReconnectSupervisor` and the core's `ReconnectPolicy`, as for the GPS
/// readers). Every change arrives on `events`, or is handed to `start(delivering:)`'s closure on
/// the connection's thread. `publish` may be called from any thread.
///
/// Each connection attempt gets a new libmosquitto client: a reused one resends its in-flight
/// QoS 1 messages after a reconnect, and the caller's queue resends them too (one duplicate per
/// message in flight at every outage). Retransmission belongs to the caller's queue alone,
/// which also decides order and pacing after an outage.
///
/// Started with `start(delivering:servedBy:)`, the caller's thread does the socket's I/O
/// instead: the connection's thread connects (the blocking TCP connect and TLS handshake), then
/// hands the session over and sleeps until it comes back, failed or released. The caller polls
/// `socketRequest` with its own inputs and calls `serve`: a fix, its publish and the broker's
/// PUBACK then cost the daemon's loop one wake-up, not three hops between threads.
///
/// The libmosquitto handles live in `current`, behind a mutex (`MosquittoHandle` says why a
/// handle may be shared); every other stored property is an immutable Sendable value.
public final class MQTTConnection: Sendable {
    public let settings: MQTTSettings
    public let events: AsyncStream<MQTTEvent>
    private let current = Mutex<Session?>(nil)
    /// Set by `start(delivering:servedBy:)`: says the caller must look at `socketRequest` again.
    private let callerServes = Mutex<Waker?>(nil)
    /// A session the caller gave back, and why; the connection's thread waits on `handback`.
    private let returned = Mutex<Returned?>(nil)
    private let handback = WakePipe()
    /// The last will's topic, changed at run time by the device shadow's `status_topic`.
    private let willTopic: Mutex<String?>
    private let offlinePayload: String
    private let sink: MosquittoCallbackSink
    private let stop = StopFlag()
    private let finished = Atomic<Bool>(false)
    private let logger: Logger
    private let backoff: Backoff
    private let stableAfter: Duration

    public enum SetupError: Error, CustomStringConvertible {
        case mosquitto(String)

        public var description: String {
            switch self {
            case .mosquitto(let text): text
            }
        }
    }

    private static let libraryReady: Bool = { mosquitto_lib_init() == 0 }()

    /// How long a PUBACK may wait in the socket for the caller's next wake-up (a fix, a timer)
    /// while nothing needs it at once: a tracker publishing a fix a second reads each PUBACK
    /// with the next fix instead of waking for it. The default, 2 s, is within the queue's
    /// spill_after (5 s), so acknowledged fixes still never reach the disk.
    public let readDeferral: Duration

    private final class Waker: Sendable {
        let wake: @Sendable () -> Void
        init(_ wake: @escaping @Sendable () -> Void) { self.wake = wake }
    }

    /// The handle of the session in progress, and while the caller serves it, what it needs.
    private struct Session {
        let handle: MosquittoHandle
        var served: Served?

        /// A packet went out on a session the caller serves: its answer may wait for the
        /// caller's next wake-up (at a fix a second, the next fix; after the last, the deferral).
        mutating func wrote(deferringReadsFor deferral: Duration) {
            served?.readsDeferredUntil = MonotonicInstant.now + deferral
        }
    }

    private struct Served {
        /// libmosquitto's keepalive check (PINGREQ, and a missing PINGRESP) is due.
        var checkAt: MonotonicInstant
        /// Reads wait for the caller's next wake-up until then (nil: the socket wakes it).
        var readsDeferredUntil: MonotonicInstant?
        var connectedAt: MonotonicInstant?
    }

    private struct Returned {
        let code: Int32
        let errno: Int32
        let connectedAt: MonotonicInstant?
        /// The caller gave it back because it stopped serving, not because it failed.
        let released: Bool
    }

    /// What the caller's poll waits for on the connection's socket.
    public struct SocketRequest: Sendable {
        /// A pollfd for the socket, with the events to wait for (none while reads are deferred).
        public let descriptor: pollfd
        /// The caller calls `serve` by then, even if the socket stays quiet.
        public let serveBy: MonotonicInstant
    }

    public init(settings: MQTTSettings, offlinePayload: String = #"{"state":"offline"}"#, logger: Logger,
                backoff: Backoff = Backoff(base: .seconds(1), cap: .seconds(120)),
                stableAfter: Duration = .seconds(60), readDeferral: Duration = .seconds(2)) throws(SetupError) {
        _ = Self.libraryReady
        self.readDeferral = readDeferral
        self.settings = settings
        self.logger = logger
        self.backoff = backoff
        self.stableAfter = stableAfter
        self.offlinePayload = offlinePayload
        willTopic = Mutex(settings.statusTopic)
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
        events = stream
        sink = MosquittoCallbackSink(events: continuation)
        // Settings that libmosquitto refuses (a missing TLS file, a bad ALPN) fail here, at once.
        mosquitto_destroy(try Self.makeHandle(settings: settings, offlinePayload: offlinePayload, sink: sink))
    }

    /// A new libmosquitto client with every setting applied.
    private static func makeHandle(settings: MQTTSettings, offlinePayload: String,
                                   sink: MosquittoCallbackSink) throws(SetupError) -> OpaquePointer {
        guard let handle = mosquitto_new(settings.clientID, true, Unmanaged.passUnretained(sink).toOpaque()) else {
            throw .mosquitto("cannot create an MQTT client: \(String(cString: strerror(errno)))")
        }
        func check(_ rc: Int32, _ what: String) throws(SetupError) {
            guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                mosquitto_destroy(handle)
                throw .mosquitto("MQTT \(what): \(String(cString: mosquitto_strerror(rc)))")
            }
        }
        try check(mosquitto_threaded_set(handle, true), "threaded mode")
        // The caller's queue keeps its own window ([queue] max_inflight): libmosquitto's own
        // (20 by default) would hold the rest back unsent, and walk them at every publish and
        // every PUBACK (a window of 100 drained at 0.41x mosquitto_pub's rate, 20 at 0.67x).
        try check(mosquitto_int_option(handle, MOSQ_OPT_SEND_MAXIMUM, 0), "send maximum")
        // A message goes out when it is written: an alert must not wait for the ACK of the fix
        // before it (Nagle's algorithm, against the broker's delayed ACK: up to 200 ms). Messages
        // written together share segments through `corked`.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION,
                                       settings.protocolVersion5 ? Int32(MQTT_PROTOCOL_V5) : Int32(MQTT_PROTOCOL_V311)),
                  "protocol version")
        if settings.keyIsInToken {
            // libmosquitto 2.0.11 opens keyfile as a file even with its engine options, and its
            // defaults cannot be laid over a context it did not make: the context with the
            // token's key is complete in itself (the same verification, versions and ALPN).
            var error = [CChar](repeating: 0, count: 512)
            guard let context = trackerd_token_tls_context(settings.certFile, settings.keyFile, settings.caFile, settings.host,
                                                           settings.alpn, &error, error.count) else {
                mosquitto_destroy(handle)
                throw .mosquitto("TLS with the key in the token (\(settings.keyFile)): \(String(nulTerminated: error))")
            }
            defer { trackerd_token_tls_context_free(context) }
            try check(mosquitto_int_option(handle, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0), "TLS context")
            try check(mosquitto_void_option(handle, MOSQ_OPT_SSL_CTX, context), "TLS context")
        } else {
            try check(mosquitto_tls_set(handle, settings.caFile, nil, settings.certFile, settings.keyFile, nil),
                      "TLS files (\(settings.caFile), \(settings.certFile), \(settings.keyFile))")
            // Peer verification on, TLS 1.2 or later (libmosquitto's default), host name checked.
            try check(mosquitto_tls_opts_set(handle, 1, nil, nil), "TLS options")
            try check(mosquitto_tls_insecure_set(handle, false), "TLS host name verification")
            if let alpn = settings.alpn { try check(mosquitto_string_option(handle, MOSQ_OPT_TLS_ALPN, alpn), "ALPN") }
        }
        if let topic = settings.statusTopic {
            let bytes = Array(offlinePayload.utf8)
            try check(mosquitto_will_set(handle, topic, Int32(bytes.count), bytes, 1, true), "last will")
        }
        MosquittoCallbacks.install(on: handle)
        return handle
    }

    /// Starts connecting (and reconnecting) on the connection's own thread.
    public func start() {
        let connection = self
        if !ReaderThread.start(name: "trackerd-mqtt", { connection.run() }) {
            sink.emit(.connectionFailed(reason: "cannot start the MQTT thread"))
        }
    }

    /// Starts, handing every event to `deliver` on the connection's thread instead of `events`
    /// (no task in between: the daemon's loop takes them from its own queue).
    public func start(delivering deliver: @escaping @Sendable (MQTTEvent) -> Void) {
        sink.deliver(to: deliver)
        start()
    }

    /// Starts, with the socket's I/O on the caller's thread: `wake` is called (on the
    /// connection's thread) when a session is handed over and `socketRequest` has changed.
    /// The caller calls `serve` after every wake-up while a session is handed over, and
    /// `release` when it stops serving (the connection's thread then serves it until `shutdown`).
    /// `publish` must then come from the caller's thread: it writes to the socket at once.
    public func start(delivering deliver: @escaping @Sendable (MQTTEvent) -> Void,
                      servedBy wake: @escaping @Sendable () -> Void) {
        callerServes.withLock { $0 = Waker(wake) }
        start(delivering: deliver)
    }

    /// The socket to poll while the caller serves a session, nil otherwise.
    public func socketRequest(now: MonotonicInstant) -> SocketRequest? {
        current.withLock { session -> SocketRequest? in
            guard let session, let served = session.served else { return nil }
            let handle = session.handle.pointer
            var events: Int16 = 0
            var serveBy = served.checkAt
            if let until = served.readsDeferredUntil, now < until, sink.connected.load(ordering: .acquiring),
               !sink.acknowledgementsAreWanted {
                serveBy = min(serveBy, until)
            } else {
                events |= Int16(POLLIN)
            }
            if mosquitto_want_write(handle) { events |= Int16(POLLOUT) }
            return SocketRequest(descriptor: pollfd(fd: mosquitto_socket(handle), events: events, revents: 0), serveBy: serveBy)
        }
    }

    /// Reads what the socket holds (whether or not poll said so: a deferred PUBACK is read with
    /// whatever woke the caller), writes what is queued, runs the keepalive check when due. A
    /// failed session goes back to the connection's thread, which reports it and reconnects.
    public func serve(now: MonotonicInstant) {
        let failed = current.withLock { session -> Returned? in
            guard var live = session, var served = live.served else { return nil }
            let handle = live.handle.pointer
            var rc: Int32
            // Records read ahead are read on until OpenSSL needs the socket again (EAGAIN):
            // then what it holds is at most part of a record, whose rest makes the socket
            // readable. (SSL_has_pending may count such a part: looping on it alone could spin.)
            var needsSocket = false
            repeat {
                // libmosquitto also stops after one packet when errno already says EAGAIN.
                errno = 0
                rc = mosquitto_loop_read(handle, 1)
                needsSocket = cmosq_errno() == EAGAIN
            } while rc == MOSQ_ERR_SUCCESS.rawValue && !needsSocket && cmosq_has_pending(handle) != 0
            if rc == MOSQ_ERR_SUCCESS.rawValue, mosquitto_want_write(handle) { rc = mosquitto_loop_write(handle, 1) }
            if rc == MOSQ_ERR_SUCCESS.rawValue, now >= served.checkAt {
                rc = mosquitto_loop_misc(handle)
                served.checkAt = now + Self.keepaliveCheck(settings.keepalive)
            }
            if let until = served.readsDeferredUntil, now >= until { served.readsDeferredUntil = nil }
            let connected = sink.connected.load(ordering: .acquiring)
            if served.connectedAt == nil && connected { served.connectedAt = now }
            var failure: Int32?
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                failure = rc
            } else if served.connectedAt != nil && !connected {
                failure = MOSQ_ERR_CONN_LOST.rawValue
            } else if sink.refusalReason != nil {
                failure = MOSQ_ERR_CONN_REFUSED.rawValue
            }
            if let failure {
                // No other thread can reach the handle once it is out of `current` but the
                // connection's, which takes it back.
                let back = Returned(code: failure, errno: cmosq_errno(), connectedAt: served.connectedAt, released: false)
                session = nil
                return back
            }
            live.served = served
            session = live
            return nil
        }
        if let failed { handBack(failed) }
    }

    /// The caller stops serving: the connection's thread serves the session from now on (a
    /// `shutdown` then disconnects it cleanly), and no later session is handed over.
    public func release() {
        callerServes.withLock { $0 = nil }
        let back = current.withLock { session -> Returned? in
            guard let live = session, let served = live.served else { return nil }
            // The handle stays in `current`, so publishing never stops; from now on a publish
            // only queues and signals the connection's loop, as before the hand-over.
            // Nothing is left read ahead (`serve` reads until OpenSSL holds nothing): the
            // connection's loop, which polls the socket alone, may take over.
            mosquitto_threaded_set(live.handle.pointer, true)
            cmosq_set_read_ahead(live.handle.pointer, 0)
            MosquittoCallbacks.logProblems(on: live.handle.pointer, true)
            session?.served = nil
            return Returned(code: MOSQ_ERR_SUCCESS.rawValue, errno: 0, connectedAt: served.connectedAt, released: true)
        }
        if let back { handBack(back) }
    }

    private func handBack(_ back: Returned) {
        returned.withLock { $0 = back }
        handback.signal()
    }

    /// PINGREQ goes out within a quarter keepalive of being due: well inside the 1.5 keepalives
    /// a broker waits, with a wake-up every 15 s at the default 60 s, not a poll every second.
    private static func keepaliveCheck(_ keepalive: Int) -> Duration {
        .milliseconds(max(1000, keepalive * 250))
    }

    public enum PublishError: Error, Equatable {
        case notConnected
        case rejected(String)
    }

    /// Publishes at QoS 1; returns the message id its `acknowledged` event will carry.
    public func publish(topic: String, payload: [UInt8], retain: Bool = false) -> Result<Int32, PublishError> {
        var messageID: Int32 = 0
        let rc = current.withLock { session -> Int32 in
            guard let handle = session?.handle.pointer else { return MOSQ_ERR_NO_CONN.rawValue }
            let rc = payload.withUnsafeBytes {
                mosquitto_publish(handle, &messageID, topic, Int32($0.count), $0.baseAddress, 1, retain)
            }
            session?.wrote(deferringReadsFor: readDeferral)
            return rc
        }
        return Self.result(rc, messageID)
    }

    /// A session the caller serves writes at once, so a lost connection shows here: the
    /// message was not sent (the reconnect that follows resends it), not refused.
    private static func result(_ rc: Int32, _ messageID: Int32) -> Result<Int32, PublishError> {
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue: return .success(messageID)
        case MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_ERRNO.rawValue, MOSQ_ERR_TLS.rawValue:
            return .failure(.notConnected)
        default: return .failure(.rejected(String(cString: mosquitto_strerror(rc))))
        }
    }

    /// Runs `body` (publishes, from the caller's thread) with the served socket corked: its
    /// messages leave in as few TCP segments as they fill, not one each.
    public func corked<T>(_ body: () -> T) -> T {
        let fd = current.withLock { session -> Int32 in
            guard let session, session.served != nil else { return -1 }
            return mosquitto_socket(session.handle.pointer)
        }
        guard fd >= 0 else { return body() }
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &on, socklen_t(MemoryLayout<Int32>.size))
        defer {
            var off: Int32 = 0
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        return body()
    }

    /// Subscribes at QoS 1; returns the message id its `subscribed` event will carry.
    public func subscribe(_ topics: [String]) -> Result<Int32, PublishError> {
        guard !topics.isEmpty else { return .failure(.rejected("no topic to subscribe to")) }
        var messageID: Int32 = 0
        var pointers: [UnsafeMutablePointer<CChar>?] = topics.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        let rc = current.withLock { session -> Int32 in
            guard let handle = session?.handle.pointer else { return MOSQ_ERR_NO_CONN.rawValue }
            let rc = pointers.withUnsafeMutableBufferPointer { buffer in
                guard let first = buffer.baseAddress else { return MOSQ_ERR_INVAL.rawValue }
                return mosquitto_subscribe_multiple(handle, &messageID, Int32(buffer.count), first, 1, 0, nil)
            }
            session?.wrote(deferringReadsFor: readDeferral)
            return rc
        }
        return Self.result(rc, messageID)
    }

    /// The last will names `topic` from the next connection on (a session's will is fixed when
    /// it connects).
    public func setStatusTopic(_ topic: String) {
        willTopic.withLock { $0 = topic }
    }

    public var isConnected: Bool { sink.connected.load(ordering: .acquiring) }

    /// Message ids the broker acknowledged since the last call (see `MQTTEvent.acknowledgementsReady`).
    public func takeAcknowledged() -> [Int32] { sink.takeAcknowledged() }

    /// Acknowledgements that arrived since the last `takeAcknowledged`.
    public var hasAcknowledged: Bool { sink.hasAcknowledged }

    /// Whether a PUBACK should wake the caller (`.acknowledgementsReady`), or wait for it to
    /// take acknowledgements with its next input: the caller says which, after each input.
    public func wantAcknowledgements(_ wanted: Bool) { sink.wantAcknowledgements(wanted) }

    /// Disconnects cleanly (no last will) and ends the thread; returns once it has ended or after 2 s.
    public func shutdown() async {
        stop.set()
        // The loop may be asleep until the next keepalive: a DISCONNECT queued here wakes it at
        // once (libmosquitto signals its own loop when a packet is queued from another thread).
        current.withLock { session in
            if let session { _ = mosquitto_disconnect(session.handle.pointer) }
        }
        let clock = ContinuousClock()
        let deadline = MonotonicInstant.now + .seconds(2)
        while !finished.load(ordering: .acquiring) && MonotonicInstant.now < deadline {
            try? await clock.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - the connection's thread

    private func run() {
        defer {
            finished.store(true, ordering: .releasing)
            sink.finish()
        }
        let policy = ReconnectPolicy(backoff: backoff, stableAfter: stableAfter)
        ReconnectSupervisor(policy: policy).run(stop: stop, attempt: attempt, report: { event, delay in
            switch event {
            case .unavailable(let reason), .stillUnavailable(let reason), .lost(let reason, established: false):
                sink.emit(.connectionFailed(reason: reason))
            case .lost(let reason, established: true):
                sink.emit(.disconnected(reason: reason))
            }
            sink.emit(.retrying(after: delay))
        })
    }

    /// One session on a new client: connect, loop until it fails or the connection is stopped
    /// (nil: then it disconnects cleanly, without the last will).
    private func attempt() -> ReconnectPolicy.Outcome? {
        sink.reset()
        let handle: OpaquePointer
        var settings = settings
        settings.statusTopic = willTopic.withLock { $0 }
        do {
            handle = try Self.makeHandle(settings: settings, offlinePayload: offlinePayload, sink: sink)
        } catch {
            return .couldNotOpen(reason: "\(error)")
        }
        current.withLock { $0 = Session(handle: MosquittoHandle(pointer: handle)) }
        let rc = mosquitto_connect(handle, settings.host, Int32(settings.port), Int32(settings.keepalive))
        var connectedAt: MonotonicInstant?
        var failure: Int32 = rc
        var failureErrno = mosquitto_errno()
        var servedByCaller = false
        if rc == MOSQ_ERR_SUCCESS.rawValue, let back = handOver(handle) {
            connectedAt = back.connectedAt
            failure = back.code
            failureErrno = back.errno
            servedByCaller = !back.released
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue && !servedByCaller {
            while !stop.isSet {
                // Asleep until the socket, a packet queued from another thread, a stop (see
                // `shutdown`) or the keepalive's PINGREQ: libmosquitto shortens the wait to the
                // next packet due, so an idle connection wakes once a keepalive, not every second.
                let loop = mosquitto_loop(handle, Int32(settings.keepalive) * 1000, 1)
                if connectedAt == nil && sink.connected.load(ordering: .acquiring) { connectedAt = MonotonicInstant.now }
                if loop != MOSQ_ERR_SUCCESS.rawValue {
                    failure = loop
                    failureErrno = mosquitto_errno()
                    break
                }
                if connectedAt != nil && !sink.connected.load(ordering: .acquiring) {
                    failure = MOSQ_ERR_CONN_LOST.rawValue
                    break
                }
                if sink.refusalReason != nil { failure = MOSQ_ERR_CONN_REFUSED.rawValue; break }
            }
        }
        // No other thread can reach the handle once it is out of `current`.
        current.withLock { $0 = nil }
        if stop.isSet {
            if sink.connected.load(ordering: .acquiring) {
                mosquitto_disconnect(handle)
                for _ in 0..<5 where mosquitto_loop(handle, 50, 1) == MOSQ_ERR_SUCCESS.rawValue {}
            }
            sink.connected.store(false, ordering: .releasing)
            mosquitto_destroy(handle)
            return nil
        }
        sink.connected.store(false, ordering: .releasing)
        let reason = ConnectionDiagnosis.explain(code: failure, errno: failureErrno, settings: settings,
                                                 problems: sink.recentProblems, refusal: sink.refusalReason)
        mosquitto_disconnect(handle)
        mosquitto_destroy(handle)
        return connectedAt == nil ? .couldNotOpen(reason: reason) : .ended(reason: reason, establishedAt: connectedAt)
    }

    /// Hands a connected session to the caller when it serves the socket, and waits until it
    /// comes back; nil when the caller does not serve it (the connection's thread loops).
    private func handOver(_ handle: OpaquePointer) -> Returned? {
        // Set and woken under the lock `release` clears it with: a caller that has released
        // is never handed a session again.
        let handed = callerServes.withLock { waker -> Bool in
            guard let waker else { return false }
            // The caller's thread writes at once (no loop thread to signal); what is queued
            // now (CONNECT) goes out with its first `serve`.
            let now = MonotonicInstant.now
            current.withLock { session in
                mosquitto_threaded_set(handle, false)
                cmosq_set_read_ahead(handle, 1)
                MosquittoCallbacks.logProblems(on: handle, false)
                session?.served = Served(checkAt: now + Self.keepaliveCheck(settings.keepalive))
            }
            waker.wake()
            return true
        }
        guard handed else { return nil }
        while true {
            // Emptied before looking: a hand-back in between leaves its byte, so the wait ends.
            handback.drain()
            if let back = returned.withLock({ value -> Returned? in defer { value = nil }; return value }) {
                // A failed session is out of `current`: no other thread reaches it now.
                if !back.released { mosquitto_threaded_set(handle, true) }
                return back
            }
            handback.wait(milliseconds: -1)
        }
    }

    private func mosquitto_errno() -> Int32 { cmosq_errno() }
}
