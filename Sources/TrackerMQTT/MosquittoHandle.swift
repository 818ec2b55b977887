/// A libmosquitto client pointer that may sit in `MQTTConnection`'s mutex.
///
/// Unchecked sendability is sound because: the pointer is only dereferenced by libmosquitto,
/// either on the connection's loop thread that created it, or by `mosquitto_publish` /
/// `mosquitto_subscribe` / `mosquitto_disconnect` called while holding the mutex that stores
/// it; all are thread-safe
/// after `mosquitto_threaded_set(true)`. The loop thread takes it out of the mutex before it
/// destroys it, so no other thread can hold it then.
struct MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
