import CMosquitto
import Synchronization

/// The state libmosquitto's callbacks write to, reached through mosquitto's user-data pointer.
final class MosquittoCallbackSink: Sendable {
    private let events: AsyncStream<MQTTEvent>.Continuation
    /// Set by `MQTTConnection.start(delivering:)`: events go straight to it, on this thread.
    /// Boxed: a closure kept in a Mutex's generic storage is re-wrapped in a thunk at every
    /// `withLock`, and the chain of thunks grows by two per event (a drain spent 77 % of its
    /// CPU in them).
    private final class Handler: Sendable {
        let deliver: @Sendable (MQTTEvent) -> Void
        init(_ deliver: @escaping @Sendable (MQTTEvent) -> Void) { self.deliver = deliver }
    }
    private let direct = Mutex<Handler?>(nil)
    let connected = Atomic<Bool>(false)
    private let refusal = Mutex<String?>(nil)
    private let problems = Mutex<[String]>([])
    private let acknowledged = Mutex<(ids: [Int32], wakePending: Bool)>(([], false))
    /// False while the caller takes acknowledgements with its next input anyway: then a PUBACK
    /// wakes nobody (at 10 fixes/s, one wake-up of the loop per fix saved).
    private let acknowledgementsWanted = Atomic<Bool>(true)

    init(events: AsyncStream<MQTTEvent>.Continuation) {
        self.events = events
    }

    func deliver(to handler: @escaping @Sendable (MQTTEvent) -> Void) {
        let box = Handler(handler)
        direct.withLock { $0 = box }
    }

    func emit(_ event: MQTTEvent) {
        if let handler = direct.withLock({ $0 }) { handler.deliver(event) } else { events.yield(event) }
    }

    func finish() {
        events.finish()
    }

    /// The broker's refusal (CONNACK reason) since the last `reset()`.
    var refusalReason: String? { refusal.withLock { $0 } }

    /// libmosquitto's warnings and errors (OpenSSL's among them) since the last `reset()`.
    var recentProblems: [String] { problems.withLock { $0 } }

    func reset() {
        refusal.withLock { $0 = nil }
        problems.withLock { $0.removeAll() }
    }

    fileprivate func onConnect(_ code: Int32) {
        if code == 0 {
            connected.store(true, ordering: .releasing)
            emit(.connected)
        } else {
            let reason = mosquitto_connack_string(code).map { String(cString: $0) } ?? "code \(code)"
            refusal.withLock { $0 = "the broker refused the connection: \(reason)" }
        }
    }

    fileprivate func onDisconnect(_ code: Int32) {
        connected.store(false, ordering: .releasing)
    }

    fileprivate func onPublish(_ messageID: Int32) {
        let wanted = acknowledgementsWanted.load(ordering: .acquiring)
        let wake = acknowledged.withLock { state in
            state.ids.append(messageID)
            guard wanted && !state.wakePending else { return false }
            state.wakePending = true
            return true
        }
        if wake { emit(.acknowledgementsReady) }
    }

    func wantAcknowledgements(_ wanted: Bool) {
        acknowledgementsWanted.store(wanted, ordering: .releasing)
    }

    var acknowledgementsAreWanted: Bool { acknowledgementsWanted.load(ordering: .acquiring) }

    var hasAcknowledged: Bool { acknowledged.withLock { !$0.ids.isEmpty } }

    fileprivate func onSubscribe(_ messageID: Int32, _ granted: [Int32]) {
        emit(.subscribed(messageID: messageID, granted: granted))
    }

    fileprivate func onMessage(_ topic: String, _ payload: [UInt8]) {
        emit(.message(topic: topic, payload: payload))
    }

    /// The acknowledged message ids so far, oldest first; the next acknowledgement wakes again.
    func takeAcknowledged() -> [Int32] {
        acknowledged.withLock { state in
            defer { state = ([], false) }
            return state.ids
        }
    }

    fileprivate func onLog(_ level: Int32, _ text: String) {
        problems.withLock {
            $0.append(text)
            if $0.count > 8 { $0.removeFirst($0.count - 8) }
        }
    }
}

/// The one place where libmosquitto calls into Swift. The callbacks run on the connection's
/// own thread (inside mosquitto_connect/mosquitto_loop); they are plain C functions that reach
/// the sink through the user-data pointer, never an actor-isolated closure (DESIGN.md: those
/// trap when called from a foreign thread).
enum MosquittoCallbacks {
    static func install(on handle: OpaquePointer) {
        mosquitto_connect_callback_set(handle) { _, user, code in sink(user)?.onConnect(code) }
        mosquitto_disconnect_callback_set(handle) { _, user, code in sink(user)?.onDisconnect(code) }
        mosquitto_publish_callback_set(handle) { _, user, messageID in sink(user)?.onPublish(messageID) }
        mosquitto_subscribe_callback_set(handle) { _, user, messageID, count, granted in
            let qos = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
            sink(user)?.onSubscribe(messageID, qos)
        }
        mosquitto_message_callback_set(handle) { _, user, message in
            guard let message = message?.pointee, let topic = message.topic else { return }
            let payload = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(message.payloadlen))) } ?? []
            sink(user)?.onMessage(String(cString: topic), payload)
        }
        logProblems(on: handle, true)
    }

    /// libmosquitto formats a line for every packet once a log callback is set (two per
    /// message: a tenth of a drain's instructions), whatever its level: only the problems are
    /// made into Strings, and a session the daemon's loop serves goes without (its failures
    /// are diagnosed by their code, errno and a TLS probe of our own).
    static func logProblems(on handle: OpaquePointer, _ enabled: Bool) {
        guard enabled else {
            mosquitto_log_callback_set(handle, nil)
            return
        }
        mosquitto_log_callback_set(handle) { _, user, level, text in
            guard let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            sink(user)?.onLog(level, String(cString: text))
        }
    }
}

private func sink(_ user: UnsafeMutableRawPointer?) -> MosquittoCallbackSink? {
    user.map { Unmanaged<MosquittoCallbackSink>.fromOpaque($0).takeUnretainedValue() }
}
