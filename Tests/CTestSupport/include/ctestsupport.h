/* C calls the tests need that Swift's Glibc module does not expose (they sit behind
 * _XOPEN_SOURCE/_GNU_SOURCE in glibc's headers). */
#ifndef TRACKERD_CTESTSUPPORT_H
#define TRACKERD_CTESTSUPPORT_H
#include <stddef.h>

/* Opens a new pty master, unlocked, and writes the slave's path into `name`.
 * Returns the master fd, or -1 with errno set. */
int trackerd_test_open_pty(char *name, size_t length);


/* pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so a process spawned by a
 * test running in parallel cannot inherit (and hold open) another test's pipe. */
int trackerd_test_pipe_cloexec(int fds[2]);

/* What OpenSSL does whenever it is initialised with its engine flags (libmosquitto does so at
 * its first TLS connection): registers every engine on the global list for all it offers. */
void trackerd_test_register_all_engines(void);
#endif
