/* libmosquitto (Debian's libmosquitto-dev, 2.0.x). */
#ifndef TRACKERD_CMOSQUITTO_SHIM_H
#define TRACKERD_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <errno.h>
#include <openssl/ssl.h>

/* errno as libmosquitto left it, for MOSQ_ERR_ERRNO results. */
static inline int cmosq_errno(void) { return errno; }

/* A session the daemon's loop serves reads its socket with OpenSSL's read-ahead: one read(2)
   takes every TLS record waiting (a burst of PUBACKs), where libmosquitto alone makes two
   per record (header, body). Records read ahead are invisible to poll(2): the loop reads on
   while cmosq_has_pending says so and OpenSSL has not asked for the socket (EAGAIN). */
static inline void cmosq_set_read_ahead(struct mosquitto *mosq, int on) {
    SSL *ssl = (SSL *)mosquitto_ssl_get(mosq);
    if (ssl) SSL_set_read_ahead(ssl, on);
}

static inline int cmosq_has_pending(struct mosquitto *mosq) {
    SSL *ssl = (SSL *)mosquitto_ssl_get(mosq);
    return ssl ? SSL_has_pending(ssl) : 0;
}
#endif
