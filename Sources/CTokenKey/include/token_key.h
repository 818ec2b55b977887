/* Device keys that live in a PKCS#11 token (SoftHSM2, a TPM 2.0 through tpm2-pkcs11, a secure
 * element): made inside the token, used through OpenSSL's engine of libp11 (Debian's
 * libengine-pkcs11-openssl), never read out. One PKCS#11 module per process: the engine is
 * process-wide, and so is a module's login state.
 *
 * On failure a function returns NULL or a negative value and writes why into `error`. No PIN is
 * ever written into `error`. */
#ifndef TRACKERD_TOKEN_KEY_H
#define TRACKERD_TOKEN_KEY_H
#include <stddef.h>

/* Sets the module (a PKCS#11 .so) and the user PIN for every later call. Calling it again with
 * the same module changes nothing but the PIN; another module is refused. 0 or -1. */
int trackerd_token_open(const char *module_path, const char *pin, char *error, size_t error_length);

/* A key pair made inside the token whose label is `token_label`: private part sensitive and not
 * extractable, both parts labelled `object` with CKA_ID `id`. EC P-256 when rsa_bits is 0, else
 * RSA of that size. 0 or -1. */
int trackerd_token_generate(const char *token_label, const char *object, const unsigned char *id, size_t id_length,
                            int rsa_bits, char *error, size_t error_length);

/* Destroys every object with CKA_ID `id` (when id is not NULL) and label `object` (when not
 * NULL) in the token: the number destroyed, or -1. */
int trackerd_token_destroy(const char *token_label, const char *object, const unsigned char *id, size_t id_length,
                           char *error, size_t error_length);

/* Whether the token holds a private key with CKA_ID `id`: 1, 0, or -1 when it cannot be asked. */
int trackerd_token_has_key(const char *token_label, const unsigned char *id, size_t id_length,
                           char *error, size_t error_length);

/* A PEM CSR (subject CN=common_name, SHA-256) signed inside the token by the key at `uri`
 * (RFC 7512). malloc'd, or NULL. */
char *trackerd_token_csr(const char *uri, const char *common_name, char *error, size_t error_length);

/* 1 if the PEM certificate is for the token key at `uri`, 0 if not, -1 if the certificate
 * cannot be read, -2 if the key cannot be loaded. */
int trackerd_token_certificate_matches(const char *cert_pem, const char *uri, char *error, size_t error_length);

/* A TLS client context (an SSL_CTX *) for libmosquitto's MOSQ_OPT_SSL_CTX, complete in itself
 * (libmosquitto 2.0.11 sets its per-connection data only when it made the context, so its own
 * defaults cannot be used on ours): the certificate chain of `cert_file` with the token key at
 * `uri`, the broker verified against `ca_file` and its name against `host`, TLS 1.2 or later,
 * and ALPN when `alpn` is not NULL. The caller frees it with trackerd_token_tls_context_free once
 * libmosquitto holds its own reference. */
void *trackerd_token_tls_context(const char *cert_file, const char *uri, const char *ca_file, const char *host,
                                 const char *alpn, char *error, size_t error_length);
void trackerd_token_tls_context_free(void *context);
#endif
