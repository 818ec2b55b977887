/* SQLite for trackerd's queue. SQLITE_TRANSIENT is a cast macro Swift cannot import. */
#ifndef TRACKERD_CSQLITE_SHIM_H
#define TRACKERD_CSQLITE_SHIM_H
#include <sqlite3.h>

static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
