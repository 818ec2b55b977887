/// TrackerSystem: trackerd's contact with the operating system's services.
///
/// The journal-aware log handler (priority prefixes on stderr, the native journal protocol),
/// sd_notify, the board's identity (serial number, MAC address), the wall clock, whole-file
/// reads and the threads that blocking readers run on.
enum TrackerSystem {}
