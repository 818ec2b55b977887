#define _GNU_SOURCE
#include "cgps.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* The soname of Debian bookworm's libgps (libgps28); libgps.so (libgps-dev) as a fallback for a
 * development machine with another version. */
static const char *const names[] = { "libgps.so.28", "libgps.so" };

static struct {
    __typeof__(&gps_open) open;
    __typeof__(&gps_close) close;
    __typeof__(&gps_waiting) waiting;
    __typeof__(&gps_errstr) errstr;
    __typeof__(&gps_read) read;
    __typeof__(&gps_stream) stream;
} gps;
static char load_error[256];
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_error, sizeof load_error, "cannot load libgps (install libgps28): %s", dlerror());
        return;
    }
    *(void **)&gps.open = dlsym(library, "gps_open");
    *(void **)&gps.close = dlsym(library, "gps_close");
    *(void **)&gps.waiting = dlsym(library, "gps_waiting");
    *(void **)&gps.errstr = dlsym(library, "gps_errstr");
    *(void **)&gps.read = dlsym(library, "gps_read");
    *(void **)&gps.stream = dlsym(library, "gps_stream");
    if (!gps.open || !gps.close || !gps.waiting || !gps.errstr || !gps.read || !gps.stream) {
        snprintf(load_error, sizeof load_error, "the libgps found lacks a function trackerd needs (gps_open, gps_read...)");
        gps.open = NULL;
    }
}

const char *cgps_load(void) {
    pthread_once(&loaded, load);
    return gps.open ? NULL : load_error;
}

int cgps_open(const char *host, const char *port, struct gps_data_t *d) { return gps.open(host, port, d); }
int cgps_close(struct gps_data_t *d) { return gps.close(d); }
bool cgps_waiting(const struct gps_data_t *d, int timeout) { return gps.waiting(d, timeout); }
const char *cgps_errstr(int error) { return gps.errstr(error); }

int cgps_read(struct gps_data_t *d) {
#if GPSD_API_MAJOR_VERSION >= 7
    return gps.read(d, NULL, 0);
#else
    return gps.read(d);
#endif
}

int cgps_watch(struct gps_data_t *d) {
    return gps.stream(d, WATCH_ENABLE | WATCH_JSON, NULL);
}
