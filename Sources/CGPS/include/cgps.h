/* The one place that knows libgps's version differences (see ../shared/testdata/gpsd/LIBGPS.md):
 * Swift cannot #if on GPSD_API_MAJOR_VERSION, so each difference is a static inline here.
 *
 * libgps is opened on the first use of the gpsd source (dlopen, cgps.c), not linked: a tracker
 * on a UART never needs it, nor the D-Bus and systemd libraries it brings (0.9 MB of a
 * running tracker's memory). The package depends on it by name. */
#ifndef TRACKERD_CGPS_H
#define TRACKERD_CGPS_H
#include <gps.h>
#include <math.h>
#include <stdbool.h>

/* NULL once libgps is loaded (the first call loads it); otherwise why it cannot be. */
const char *cgps_load(void);
/* libgps's own functions, through the loaded library (cgps_load first). */
int cgps_open(const char *host, const char *port, struct gps_data_t *d);
int cgps_close(struct gps_data_t *d);
bool cgps_waiting(const struct gps_data_t *d, int timeout);
const char *cgps_errstr(int error);
int cgps_read(struct gps_data_t *d);
int cgps_watch(struct gps_data_t *d);

/* The fix time in nanoseconds since 1970, or 0 when the TPV had no time. */
static inline long long cgps_fix_time_ns(const struct gps_data_t *d) {
#if GPSD_API_MAJOR_VERSION >= 9
    return (long long)d->fix.time.tv_sec * 1000000000LL + d->fix.time.tv_nsec;
#else
    return isfinite(d->fix.time) ? (long long)(d->fix.time * 1e9) : 0;
#endif
}

/* The fix status (0 unknown/none, 1 GPS, 2 DGPS, 3 RTK fixed, 4 RTK float, 5 DR, 6 GNSS+DR,
 * 7 surveyed, 8 simulated, 9 PPS), wherever this version keeps it. */
static inline int cgps_fix_status(const struct gps_data_t *d) {
#if GPSD_API_MAJOR_VERSION >= 10
    return d->fix.status;
#else
    return d->status;
#endif
}

static inline double cgps_fix_alt_msl(const struct gps_data_t *d) {
#if GPSD_API_MAJOR_VERSION >= 9
    return d->fix.altMSL;
#else
    return d->fix.altitude;
#endif
}


static inline unsigned long long cgps_set(const struct gps_data_t *d) { return (unsigned long long)d->set; }
static inline unsigned long long cgps_mode_set(void) { return (unsigned long long)MODE_SET; }
static inline unsigned long long cgps_latlon_set(void) { return (unsigned long long)LATLON_SET; }
#endif
