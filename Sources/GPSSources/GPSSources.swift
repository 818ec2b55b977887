/// GPSSources: the adapters that turn a receiver into `Fix`es behind `FixSource`.
///
/// `GPSDFixSource` (gpsd through libgps), `SerialFixSource` (a UART or USB tty in raw mode) and
/// `ReplayFixSource` (a recorded NMEA file). The serial port and the replay are served by the
/// daemon's loop in its own sleep (`LoopServedFixSource`: one wake-up a fix); gpsd, whose
/// library blocks, reads on a thread of its own. Any of them runs on a thread for other
/// consumers (`start(delivering:)`, `fixes()`). Live sources never give up: a lost device or
/// daemon is reopened with backoff, each loss and return logged once.
enum GPSSources {}
