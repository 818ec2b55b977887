#define _GNU_SOURCE
#include "device_crypto.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static void reason(char *error, size_t length) {
    unsigned long e = ERR_get_error();
    const char *text = e ? ERR_reason_error_string(e) : NULL;
    snprintf(error, length, "%s", text ? text : "OpenSSL error");
    ERR_clear_error();
}

static char *bio_text(BIO *bio) {
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out) { memcpy(out, data, (size_t)n); out[n] = 0; }
    return out;
}

static EVP_PKEY *read_key(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

static X509 *read_cert(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

char *trackerd_generate_key(int rsa_bits, char *error, size_t error_length) {
    EVP_PKEY *key = rsa_bits > 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits)
                                 : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!key) { reason(error, error_length); return NULL; }
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) out = bio_text(bio);
    else reason(error, error_length);
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

char *trackerd_make_csr(const char *key_pem, const char *common_name, char *error, size_t error_length) {
    EVP_PKEY *key = read_key(key_pem);
    if (!key) { reason(error, error_length); return NULL; }
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    char *out = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (req && name && bio
        && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) == 1
        && X509_REQ_set_subject_name(req, name) == 1
        && X509_REQ_set_version(req, 0) == 1
        && X509_REQ_set_pubkey(req, key) == 1
        && X509_REQ_sign(req, key, EVP_sha256()) > 0
        && PEM_write_bio_X509_REQ(bio, req) == 1) {
        out = bio_text(bio);
    } else {
        reason(error, error_length);
    }
    BIO_free(bio);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return out;
}

int trackerd_certificate_matches_key(const char *cert_pem, const char *key_pem) {
    X509 *cert = read_cert(cert_pem);
    EVP_PKEY *key = read_key(key_pem);
    int result = !cert ? -1 : !key ? -2 : 0;
    if (cert && key) {
        EVP_PKEY *public_key = X509_get0_pubkey(cert);
        result = public_key && EVP_PKEY_eq(public_key, key) == 1 ? 1 : 0;
    }
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return result;
}

int trackerd_certificate_info(const char *cert_pem, long long *not_before, long long *not_after, char *sha256_hex) {
    X509 *cert = read_cert(cert_pem);
    if (!cert) { ERR_clear_error(); return -1; }
    struct tm tm;
    int rc = 0;
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) == 1) *not_before = (long long)timegm(&tm); else rc = -1;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) *not_after = (long long)timegm(&tm); else rc = -1;
    unsigned char digest[32];
    unsigned int length = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &length) == 1 && length == 32) {
        for (unsigned int i = 0; i < 32; i++) snprintf(sha256_hex + 2 * i, 3, "%02x", digest[i]);
    } else {
        rc = -1;
    }
    X509_free(cert);
    return rc;
}

char *trackerd_certificate_common_name(const char *cert_pem) {
    X509 *cert = read_cert(cert_pem);
    if (!cert) { ERR_clear_error(); return NULL; }
    char buffer[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof buffer);
    X509_free(cert);
    return n >= 0 ? strdup(buffer) : NULL;
}

int trackerd_sha256_file(const char *path, char *hex, long long *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return -1;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    EVP_DigestInit_ex(context, EVP_sha256(), NULL);
    unsigned char buffer[65536], digest[32];
    size_t n;
    long long total = 0;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) {
        EVP_DigestUpdate(context, buffer, n);
        total += (long long)n;
    }
    int failed = ferror(file);
    fclose(file);
    unsigned int length = 0;
    EVP_DigestFinal_ex(context, digest, &length);
    EVP_MD_CTX_free(context);
    if (failed) return -1;
    for (unsigned int i = 0; i < length; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    *size = total;
    return 0;
}
