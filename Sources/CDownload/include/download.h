/* One HTTPS download with libcurl (Debian's libcurl4-openssl-dev), appended to a partial file
 * so that an interrupted download resumes where it stopped. Progress crosses into Swift
 * through the one callback below. */
#ifndef TRACKERD_DOWNLOAD_H
#define TRACKERD_DOWNLOAD_H
#include <stddef.h>

/* Called with the bytes in the file so far and the total (-1 when unknown); return nonzero to
 * abort the transfer. */
typedef int (*trackerd_download_progress)(void *context, long long bytes, long long total);

enum trackerd_download_result {
    TRACKERD_DOWNLOAD_OK = 0,
    /* A failure that may pass: no connection, a timeout, a stall, a cut transfer, a 5xx. */
    TRACKERD_DOWNLOAD_RETRY = 1,
    /* The server refused (4xx, other than 416) or the URL is unusable: retrying cannot help. */
    TRACKERD_DOWNLOAD_REFUSED = 2,
    /* The server ignored the range, or the partial file is longer than the file: start over. */
    TRACKERD_DOWNLOAD_RESTART = 3,
    /* The partial file cannot be written (disk full, permissions). */
    TRACKERD_DOWNLOAD_LOCAL = 4,
    TRACKERD_DOWNLOAD_ABORTED = 5
};

/* Downloads `url` (https only; `ca_file` the CAs to trust) into `path`, resuming after the
 * bytes it already holds. `http_status` receives the last HTTP status, `detail` one line. */
int trackerd_download(const char *url, const char *ca_file, const char *path, long stall_seconds,
                      trackerd_download_progress progress, void *context, long *http_status, char *detail, size_t detail_length);
#endif
