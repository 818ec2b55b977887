/* The device's own key material, with OpenSSL 3 (libssl-dev): key generation, CSR, certificate
 * checks. Functions that return char* return malloc'd text the caller frees; on failure they
 * return NULL and write OpenSSL's reason into `error`. */
#ifndef TRACKERD_DEVICE_CRYPTO_H
#define TRACKERD_DEVICE_CRYPTO_H
#include <stddef.h>

/* A new private key as PKCS#8 PEM: EC P-256 when rsa_bits is 0, else RSA of that size. */
char *trackerd_generate_key(int rsa_bits, char *error, size_t error_length);

/* A PEM certificate signing request for `key_pem`, subject CN=common_name, signed with SHA-256. */
char *trackerd_make_csr(const char *key_pem, const char *common_name, char *error, size_t error_length);

/* 1 if the certificate's public key is the key's, 0 if not, -1 if the certificate cannot be
 * read, -2 if the key cannot. */
int trackerd_certificate_matches_key(const char *cert_pem, const char *key_pem);

/* notBefore/notAfter (seconds since 1970) and the SHA-256 of the DER (64 hex digits + NUL),
 * which is how AWS IoT names a certificate. 0 on success, -1 if the PEM cannot be read. */
int trackerd_certificate_info(const char *cert_pem, long long *not_before, long long *not_after, char *sha256_hex);
/* The subject's CN of a PEM certificate (malloc'd), or NULL. */
char *trackerd_certificate_common_name(const char *cert_pem);
/* The SHA-256 of a file's contents as 64 lowercase hex digits (hex: 65 bytes) and its size.
 * 0 on success, -1 if the file cannot be read. */
int trackerd_sha256_file(const char *path, char *hex, long long *size);
#endif
