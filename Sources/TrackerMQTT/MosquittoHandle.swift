/// A libmosquitto client pointer that may sit in `MQTTConnection`'s mutex.
///
/// Unchecked sendability is sound because libmosquitto never runs on it from two threads
/// without its own locking:
/// - while the connection's thread serves the session, that thread alone runs the loop
///   (`mosquitto_connect`, `mosquitto_loop`), and other threads only call `mosquitto_publish`,
///   `mosquitto_subscribe` and `mosquitto_disconnect`, holding the mutex that stores it, all
///   thread-safe after `mosquitto_threaded_set(true)`;
/// - while the caller serves it (`start(delivering:servedBy:)`), every call on it (`serve`'s
///   reads, writes and keepalive check, `socketRequest`, the publishes that then write at once)
///   is made holding that mutex, and the connection's thread does not touch it until it is
///   handed back (taken out of the mutex, or released with threaded mode set again).
/// The connection's thread takes it out of the mutex before it destroys it, so no other thread
/// can hold it then.
struct MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
