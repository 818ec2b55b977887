/// GPSSources: the adapters that turn a receiver into `Fix`es behind `FixSource`.
///
/// `GPSDFixSource` (gpsd through libgps), `SerialFixSource` (a UART or USB tty in raw mode) and
/// `ReplayFixSource` (a recorded NMEA file). Live sources read on a thread of their own, since
/// their reads block, and hand fixes to Swift concurrency through an `AsyncStream`. They never
/// give up: a lost device or daemon is reopened with backoff, each loss and return logged once.
enum GPSSources {}
