#define _GNU_SOURCE
#include "download.h"
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct transfer {
    trackerd_download_progress progress;
    void *context;
    long long offset;
    FILE *file;
    int write_failed;
};

/* libcurl is opened on the first download, not at start: with the 30 libraries it brings
 * (GnuTLS, Kerberos, LDAP, SSH, RTMP...) it was 3.5 MB of a running tracker's memory, for a
 * job that may never come. The package depends on libcurl4. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
} curl;
static char load_error[256];
static pthread_once_t initialised = PTHREAD_ONCE_INIT;

static void initialise(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_error, sizeof load_error, "cannot load libcurl (install libcurl4): %s", dlerror());
        return;
    }
    *(void **)&curl.global_init = dlsym(library, "curl_global_init");
    *(void **)&curl.easy_init = dlsym(library, "curl_easy_init");
    *(void **)&curl.easy_setopt = dlsym(library, "curl_easy_setopt");
    *(void **)&curl.easy_perform = dlsym(library, "curl_easy_perform");
    *(void **)&curl.easy_getinfo = dlsym(library, "curl_easy_getinfo");
    *(void **)&curl.easy_cleanup = dlsym(library, "curl_easy_cleanup");
    *(void **)&curl.easy_strerror = dlsym(library, "curl_easy_strerror");
    if (!curl.global_init || !curl.easy_init || !curl.easy_setopt || !curl.easy_perform || !curl.easy_getinfo
        || !curl.easy_cleanup || !curl.easy_strerror) {
        snprintf(load_error, sizeof load_error, "libcurl.so.4 lacks a function trackerd needs (curl_easy_*)");
        curl.easy_init = NULL;
        return;
    }
    curl.global_init(CURL_GLOBAL_DEFAULT);
}

static size_t write_body(char *data, size_t size, size_t count, void *user) {
    struct transfer *transfer = user;
    size_t written = fwrite(data, size, count, transfer->file);
    if (written != count || fflush(transfer->file) != 0) { transfer->write_failed = 1; return 0; }
    return written * size;
}

static int report(void *user, curl_off_t total, curl_off_t now, curl_off_t up_total, curl_off_t up_now) {
    (void)up_total; (void)up_now;
    struct transfer *transfer = user;
    if (!transfer->progress) return 0;
    return transfer->progress(transfer->context, transfer->offset + (long long)now,
                              total > 0 ? transfer->offset + (long long)total : -1);
}

int trackerd_download(const char *url, const char *ca_file, const char *path, long stall_seconds,
                      trackerd_download_progress progress, void *context, long *http_status, char *detail, size_t detail_length) {
    pthread_once(&initialised, initialise);
    *http_status = 0;
    detail[0] = 0;
    if (!curl.easy_init) {
        snprintf(detail, detail_length, "%s", load_error);
        return TRACKERD_DOWNLOAD_REFUSED;
    }
    struct stat info;
    long long offset = stat(path, &info) == 0 ? (long long)info.st_size : 0;
    struct transfer transfer = { progress, context, offset, fopen(path, "ab"), 0 };
    if (!transfer.file) {
        snprintf(detail, detail_length, "cannot write %s: %s", path, strerror(errno));
        return TRACKERD_DOWNLOAD_LOCAL;
    }
    CURL *handle = curl.easy_init();
    char error[CURL_ERROR_SIZE] = "";
    curl.easy_setopt(handle, CURLOPT_URL, url);
    curl.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "https");
    curl.easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl.easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
    curl.easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
    if (ca_file && ca_file[0]) curl.easy_setopt(handle, CURLOPT_CAINFO, ca_file);
    curl.easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl.easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    curl.easy_setopt(handle, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for stall_seconds) is a failure to retry, not a hang. */
    curl.easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl.easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, stall_seconds);
    curl.easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
    curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
    curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, write_body);
    curl.easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
    curl.easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    curl.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, report);
    curl.easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
    if (offset > 0) curl.easy_setopt(handle, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
    CURLcode code = curl.easy_perform(handle);
    curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, http_status);
    fclose(transfer.file);
    curl.easy_cleanup(handle);
    if (code == CURLE_OK) return TRACKERD_DOWNLOAD_OK;
    snprintf(detail, detail_length, "%s", error[0] ? error : curl.easy_strerror(code));
    if (transfer.write_failed) {
        snprintf(detail, detail_length, "cannot write %s (disk full?)", path);
        return TRACKERD_DOWNLOAD_LOCAL;
    }
    switch (code) {
    case CURLE_RANGE_ERROR: return TRACKERD_DOWNLOAD_RESTART;
    case CURLE_ABORTED_BY_CALLBACK: return TRACKERD_DOWNLOAD_ABORTED;
    case CURLE_HTTP_RETURNED_ERROR:
        if (*http_status == 416) return TRACKERD_DOWNLOAD_RESTART;
        return *http_status >= 500 || *http_status == 408 || *http_status == 429 ? TRACKERD_DOWNLOAD_RETRY : TRACKERD_DOWNLOAD_REFUSED;
    case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_PEER_FAILED_VERIFICATION:
        return TRACKERD_DOWNLOAD_REFUSED;
    default:
        return TRACKERD_DOWNLOAD_RETRY;
    }
}
