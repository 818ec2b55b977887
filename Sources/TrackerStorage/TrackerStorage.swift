/// TrackerStorage: what trackerd keeps on disk, in the `[store] dir`.
///
/// `SQLiteQueueStore` holds the outbound messages that must survive a restart (WAL mode, one
/// transaction per commit), moves a corrupt database aside, and reports a full disk so the
/// queue can carry on in memory.
enum TrackerStorage {}
