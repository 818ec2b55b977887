#define _GNU_SOURCE
#include "tls_probe.h"
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int connect_tcp(const char *host, int port, int timeout_ms, char *detail, size_t length) {
    struct addrinfo hints, *list = NULL, *ai;
    char service[16];
    int fd = -1, rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%d", port);
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(detail, length, "%s", gai_strerror(rc));
        return -1;
    }
    for (ai = list; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        snprintf(detail, length, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

static void last_ssl_error(char *detail, size_t length) {
    unsigned long e = ERR_peek_last_error();
    if (e) {
        const char *reason = ERR_reason_error_string(e);
        snprintf(detail, length, "%s", reason ? reason : "unknown TLS error");
    }
    ERR_clear_error();
}

int trackerd_tls_probe(const char *host, int port, const char *ca_file, const char *cert_file,
                       const char *key_file, const char *alpn, int timeout_ms,
                       long *verify_error, char *detail, size_t detail_length) {
    int result = TRACKERD_TLS_OK, fd = -1;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    *verify_error = 0;
    detail[0] = 0;
    ERR_clear_error();

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { last_ssl_error(detail, detail_length); return TRACKERD_TLS_SETUP_FAILED; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        snprintf(detail, detail_length, "cannot load CA file %s", ca_file);
        result = TRACKERD_TLS_SETUP_FAILED;
        goto done;
    }
    if (cert_file && key_file &&
        (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)) {
        snprintf(detail, detail_length, "cannot load client certificate %s or key %s", cert_file, key_file);
        result = TRACKERD_TLS_SETUP_FAILED;
        goto done;
    }
    /* Verify, but finish the handshake whatever the outcome, to read the verification result. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);

    fd = connect_tcp(host, port, timeout_ms, detail, detail_length);
    if (fd < 0) { result = TRACKERD_TLS_CONNECT_FAILED; goto done; }
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, host);
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (alpn && alpn[0]) {
        unsigned char wire[256];
        size_t n = strlen(alpn);
        if (n < 255) {
            wire[0] = (unsigned char)n;
            memcpy(wire + 1, alpn, n);
            SSL_set_alpn_protos(ssl, wire, (unsigned int)(n + 1));
        }
    }
    if (SSL_connect(ssl) != 1) {
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            *verify_error = verify;
            snprintf(detail, detail_length, "%s", X509_verify_cert_error_string(verify));
            result = TRACKERD_TLS_VERIFY_FAILED;
        } else {
            last_ssl_error(detail, detail_length);
            result = TRACKERD_TLS_HANDSHAKE_FAILED;
        }
        goto done;
    }
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
        *verify_error = verify;
        snprintf(detail, detail_length, "%s", X509_verify_cert_error_string(verify));
        result = TRACKERD_TLS_VERIFY_FAILED;
        goto done;
    }
    /* TLS 1.3 brokers judge the client certificate after the handshake: wait for their alert. */
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, timeout_ms) > 0) {
        char byte;
        int n = SSL_read(ssl, &byte, 1);
        if (n <= 0) {
            last_ssl_error(detail, detail_length);
            if (!detail[0]) snprintf(detail, detail_length, "the broker closed the connection");
            result = TRACKERD_TLS_PEER_REJECTED;
        }
    }
done:
    if (ssl) SSL_free(ssl);
    if (fd >= 0) close(fd);
    SSL_CTX_free(ctx);
    return result;
}

int trackerd_certificate_validity(const char *cert_file, long long *not_before, long long *not_after) {
    FILE *f = fopen(cert_file, "re");
    if (!f) return -1;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert) return -1;
    struct tm tm;
    int rc = 0;
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) == 1) *not_before = (long long)timegm(&tm); else rc = -1;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) *not_after = (long long)timegm(&tm); else rc = -1;
    X509_free(cert);
    return rc;
}
