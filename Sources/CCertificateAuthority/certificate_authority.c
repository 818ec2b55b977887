#define _GNU_SOURCE
#include "certificate_authority.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void reason(char *error, size_t length, const char *fallback) {
    unsigned long e = ERR_get_error();
    const char *text = e ? ERR_reason_error_string(e) : NULL;
    snprintf(error, length, "%s", text ? text : fallback);
    ERR_clear_error();
}

static char *pem_of(X509 *cert) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL, *data = NULL;
    if (bio && PEM_write_bio_X509(bio, cert) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        out = malloc((size_t)n + 1);
        if (out) { memcpy(out, data, (size_t)n); out[n] = 0; }
    }
    BIO_free(bio);
    return out;
}

static int random_serial(X509 *cert) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return 0;
    bytes[0] &= 0x7F;
    BIGNUM *bn = BN_bin2bn(bytes, sizeof bytes, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static EVP_PKEY *read_key(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

char *localcloud_make_ca(const char *ca_key_pem, const char *common_name, int days, char *error, size_t error_length) {
    EVP_PKEY *key = read_key(ca_key_pem);
    X509 *cert = X509_new();
    char *out = NULL;
    if (key && cert && X509_set_version(cert, 2) && random_serial(cert)
        && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400)
        && X509_set_pubkey(cert, key)
        && X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0)
        && X509_set_issuer_name(cert, X509_get_subject_name(cert))
        && add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE")
        && add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign")
        && add_extension(cert, cert, NID_subject_key_identifier, "hash")
        && X509_sign(cert, key, EVP_sha256()) > 0) {
        out = pem_of(cert);
    } else {
        reason(error, error_length, "cannot make the CA certificate");
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
}

char *localcloud_sign_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem, int days,
                          const char *san, int server_auth, char *error, size_t error_length) {
    BIO *bio = BIO_new_mem_buf(ca_cert_pem, -1);
    X509 *ca = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    bio = BIO_new_mem_buf(csr_pem, -1);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    EVP_PKEY *ca_key = read_key(ca_key_pem);
    X509 *cert = X509_new();
    EVP_PKEY *subject_key = req ? X509_REQ_get0_pubkey(req) : NULL;
    char *out = NULL;
    if (!ca || !ca_key) {
        reason(error, error_length, "cannot read the CA certificate or key");
    } else if (!req || !subject_key) {
        snprintf(error, error_length, "not a PEM certificate signing request");
        ERR_clear_error();
    } else if (X509_REQ_verify(req, subject_key) != 1) {
        snprintf(error, error_length, "the CSR's signature does not verify");
        ERR_clear_error();
    } else if (cert && X509_set_version(cert, 2) && random_serial(cert)
        && X509_gmtime_adj(X509_getm_notBefore(cert), -300) && X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400)
        && X509_set_pubkey(cert, subject_key)
        && X509_set_subject_name(cert, X509_REQ_get_subject_name(req))
        && X509_set_issuer_name(cert, X509_get_subject_name(ca))
        && add_extension(cert, ca, NID_basic_constraints, "critical,CA:FALSE")
        && add_extension(cert, ca, NID_ext_key_usage, server_auth ? "serverAuth" : "clientAuth")
        && add_extension(cert, ca, NID_authority_key_identifier, "keyid:always")
        && (!san || add_extension(cert, ca, NID_subject_alt_name, san))
        && X509_sign(cert, ca_key, EVP_sha256()) > 0) {
        out = pem_of(cert);
    } else {
        reason(error, error_length, "cannot sign the certificate");
    }
    X509_free(cert);
    X509_REQ_free(req);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return out;
}

static X509 *read_certificate(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

char *localcloud_make_crl(const char *ca_cert_pem, const char *ca_key_pem, const char *const *serials_hex, int count, int days,
                          char *error, size_t length) {
    X509 *ca = read_certificate(ca_cert_pem);
    EVP_PKEY *key = read_key(ca_key_pem);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
    char *out = NULL;
    int ok = ca && key && crl && now && next && X509_CRL_set_version(crl, 1)
        && X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca))
        && X509_gmtime_adj(now, 0) && X509_gmtime_adj(next, (long)days * 86400)
        && X509_CRL_set1_lastUpdate(crl, now) && X509_CRL_set1_nextUpdate(crl, next);
    for (int i = 0; ok && i < count; i++) {
        BIGNUM *bn = NULL;
        X509_REVOKED *revoked = X509_REVOKED_new();
        ASN1_INTEGER *serial = NULL;
        ok = revoked && BN_hex2bn(&bn, serials_hex[i]) > 0 && (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL
            && X509_REVOKED_set_serialNumber(revoked, serial) && X509_REVOKED_set_revocationDate(revoked, now)
            && X509_CRL_add0_revoked(crl, revoked);
        if (!ok) X509_REVOKED_free(revoked);
        ASN1_INTEGER_free(serial);
        BN_free(bn);
    }
    if (ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data = NULL;
        if (bio && PEM_write_bio_X509_CRL(bio, crl) == 1) {
            long n = BIO_get_mem_data(bio, &data);
            out = malloc((size_t)n + 1);
            if (out) { memcpy(out, data, (size_t)n); out[n] = 0; }
        }
        BIO_free(bio);
    }
    if (!out) reason(error, length, "cannot make the CRL");
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
    X509_free(ca);
    return out;
}

char *localcloud_certificate_serial(const char *cert_pem) {
    X509 *cert = read_certificate(cert_pem);
    if (!cert) { ERR_clear_error(); return NULL; }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *out = hex ? strdup(hex) : NULL;
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(cert);
    return out;
}
