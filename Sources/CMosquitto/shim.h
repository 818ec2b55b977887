/* libmosquitto (Debian's libmosquitto-dev, 2.0.x). */
#ifndef TRACKERD_CMOSQUITTO_SHIM_H
#define TRACKERD_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <errno.h>

/* errno as libmosquitto left it, for MOSQ_ERR_ERRNO results. */
static inline int cmosq_errno(void) { return errno; }
#endif
