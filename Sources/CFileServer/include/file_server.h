/* localcloud's HTTPS file server: job payloads (packages, zone sets) served from a directory
 * over TLS, with byte ranges so that a device resumes a download. GET and HEAD only, one
 * request per connection, a thread per connection. */
#ifndef LOCALCLOUD_FILE_SERVER_H
#define LOCALCLOUD_FILE_SERVER_H
#include <stddef.h>

/* Listens on 127.0.0.1:port and serves `root`. `rate` limits each response to that many bytes
 * per second (0: no limit), for tests that must interrupt a download. Returns a handle (>= 0),
 * or -1 with `error` filled in. */
int localcloud_file_server_start(const char *root, int port, const char *cert_file, const char *key_file,
                                 long rate, char *error, size_t error_length);

/* Stops accepting (connections in progress finish). */
void localcloud_file_server_stop(int handle);
#endif
