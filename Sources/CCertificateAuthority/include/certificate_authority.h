/* localcloud's certificate authority, with OpenSSL 3: what AWS IoT does when it issues a
 * device certificate. Returned strings are malloc'd; NULL on failure with the reason in `error`. */
#ifndef TRACKERD_CERTIFICATE_AUTHORITY_H
#define TRACKERD_CERTIFICATE_AUTHORITY_H
#include <stddef.h>

/* A self-signed CA certificate for `ca_key_pem`, subject CN=common_name, valid `days`. */
char *localcloud_make_ca(const char *ca_key_pem, const char *common_name, int days, char *error, size_t error_length);

/* A certificate for the CSR's public key and subject, signed by the CA. `san` is an optional
 * subjectAltName value such as "DNS:localhost,IP:127.0.0.1" (NULL for none). The CSR's own
 * signature must verify. */
char *localcloud_sign_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem, int days,
                          const char *san, int server_auth, char *error, size_t error_length);

/* A CRL signed by the CA that lists the `count` certificates whose serial numbers (hex) are in
 * `serials_hex`, revoked now, next update in `days`. */
char *localcloud_make_crl(const char *ca_cert_pem, const char *ca_key_pem, const char *const *serials_hex, int count, int days,
                          char *error, size_t error_length);

/* A certificate's serial number in hex (malloc'd), or NULL. */
char *localcloud_certificate_serial(const char *cert_pem);
#endif
