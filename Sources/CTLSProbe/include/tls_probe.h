/* A diagnostic TLS handshake with OpenSSL, run after libmosquitto reports a TLS failure, to
 * tell an operator *why*: unknown CA, expired or not-yet-valid certificate, host name mismatch,
 * or a client certificate the broker refused. libmosquitto only says "certificate verify failed". */
#ifndef TRACKERD_TLS_PROBE_H
#define TRACKERD_TLS_PROBE_H
#include <stddef.h>

enum trackerd_tls_probe_result {
    TRACKERD_TLS_OK = 0,            /* handshake and verification succeeded */
    TRACKERD_TLS_CONNECT_FAILED = 1,/* no TCP connection (detail: strerror) */
    TRACKERD_TLS_VERIFY_FAILED = 2, /* server certificate rejected (verify_error set) */
    TRACKERD_TLS_HANDSHAKE_FAILED = 3, /* handshake failed otherwise, e.g. the broker's alert */
    TRACKERD_TLS_SETUP_FAILED = 4,  /* our CA/cert/key files could not be loaded */
    TRACKERD_TLS_PEER_REJECTED = 5  /* the broker closed the connection after the handshake */
};

/* Runs the probe. `verify_error` receives X509_V_ERR_* (0 if none); `detail` a short text. */
int trackerd_tls_probe(const char *host, int port, const char *ca_file, const char *cert_file,
                       const char *key_file, const char *alpn, int timeout_ms,
                       long *verify_error, char *detail, size_t detail_length);

/* Validity of a PEM certificate file: seconds since 1970 of notBefore/notAfter. 0 on success. */
int trackerd_certificate_validity(const char *cert_file, long long *not_before, long long *not_after);
#endif
