/// TrackerMQTT: MQTT over TLS through libmosquitto.
///
/// `MQTTConnection` connects with the blocking `mosquitto_connect` on a thread of its own and
/// drives retries with trackerd's full-jitter `Backoff` (libmosquitto's async TLS connect spins
/// when refused, see DESIGN.md). libmosquitto's callbacks cross into Swift in one place,
/// `MosquittoCallbacks`, and leave as `MQTTEvent`s on an `AsyncStream`. When a connection
/// fails, `ConnectionDiagnosis` names the reason an operator can act on.
enum TrackerMQTT {}
