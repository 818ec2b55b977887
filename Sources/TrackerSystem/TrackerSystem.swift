/// TrackerSystem: trackerd's contact with the operating system's services.
///
/// The log handler that writes one line per event to stderr, with a syslog priority prefix
/// when stderr is the journal. Later: sd_notify, the native journal protocol, board identity.
enum TrackerSystem {}
