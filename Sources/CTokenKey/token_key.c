#define _GNU_SOURCE
#include "token_key.h"
#include <arpa/inet.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ENGINE is deprecated in OpenSSL 3 but is what libp11 0.4.12 (Debian bookworm) offers; the
 * pkcs11-provider that replaces it is not in bookworm. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
/* The OASIS PKCS#11 header as Debian ships it (libp11-kit-dev). */
#include <p11-kit-1/p11-kit/pkcs11.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *module_path;
static ENGINE *engine;               /* functional reference, kept for the process */
static CK_FUNCTION_LIST_PTR p11;     /* the module's functions, for key generation */
static char *stored_pin;             /* for C_Login; wiped when replaced */

static void say(char *error, size_t length, const char *text) { snprintf(error, length, "%s", text); }

static void openssl_reason(char *error, size_t length, const char *what) {
    unsigned long e = ERR_get_error();
    const char *text = e ? ERR_reason_error_string(e) : NULL;
    snprintf(error, length, "%s: %s", what, text ? text : "OpenSSL error");
    ERR_clear_error();
}

static const char *ckr_text(CK_RV rv) {
    switch (rv) {
    case CKR_PIN_INCORRECT: return "the PIN is wrong (CKR_PIN_INCORRECT)";
    case CKR_PIN_LOCKED: return "the PIN is locked (CKR_PIN_LOCKED)";
    case CKR_USER_PIN_NOT_INITIALIZED: return "the token has no user PIN (CKR_USER_PIN_NOT_INITIALIZED)";
    case CKR_TOKEN_NOT_PRESENT: return "no token (CKR_TOKEN_NOT_PRESENT)";
    case CKR_DEVICE_ERROR: return "the device failed (CKR_DEVICE_ERROR)";
    case CKR_DEVICE_MEMORY: return "the token is full (CKR_DEVICE_MEMORY)";
    case CKR_MECHANISM_INVALID: return "the token cannot make this kind of key (CKR_MECHANISM_INVALID)";
    case CKR_TEMPLATE_INCONSISTENT: return "the token refused the key's attributes (CKR_TEMPLATE_INCONSISTENT)";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "the token refused an attribute (CKR_ATTRIBUTE_VALUE_INVALID)";
    case CKR_GENERAL_ERROR: return "the module failed (CKR_GENERAL_ERROR)";
    default: return NULL;
    }
}

static void p11_reason(char *error, size_t length, const char *what, CK_RV rv) {
    const char *text = ckr_text(rv);
    if (text) snprintf(error, length, "%s: %s", what, text);
    else snprintf(error, length, "%s: PKCS#11 error 0x%lx", what, (unsigned long)rv);
}

int trackerd_token_open(const char *path, const char *pin, char *error, size_t length) {
    pthread_mutex_lock(&lock);
    int result = -1;
    if (module_path && strcmp(module_path, path) != 0) {
        snprintf(error, length, "the PKCS#11 module %s is in use; one module per process", module_path);
        goto out;
    }
    if (!p11) {
        void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!library) { snprintf(error, length, "cannot load the PKCS#11 module %s: %s", path, dlerror()); goto out; }
        CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(library, "C_GetFunctionList");
        CK_FUNCTION_LIST_PTR list = NULL;
        if (!get || get(&list) != CKR_OK || !list) { snprintf(error, length, "%s is not a PKCS#11 module", path); goto out; }
        CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
        CK_RV rv = list->C_Initialize(&args);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) { p11_reason(error, length, "C_Initialize", rv); goto out; }
        p11 = list;
        module_path = strdup(path);
    }
    if (!engine) {
        ENGINE_load_builtin_engines();
        ENGINE *e = ENGINE_by_id("pkcs11");
        if (!e) { say(error, length, "OpenSSL has no pkcs11 engine: install libengine-pkcs11-openssl"); ERR_clear_error(); goto out; }
        if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", path, 0) || !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0) || !ENGINE_init(e)) {
            ENGINE_free(e);
            openssl_reason(error, length, "the pkcs11 engine");
            goto out;
        }
        /* Off the global list and unregistered: anyone's later ENGINE_register_all_complete()
         * (OpenSSL calls it from OPENSSL_init_crypto with the engine flags, as libmosquitto
         * does) would otherwise make this engine every EC and RSA key's method, and ordinary
         * EC key generation (TLS's ephemeral keys too) would fail with "unknown group". */
        ENGINE_remove(e);
        ENGINE_unregister_pkey_meths(e);
        ENGINE_unregister_RSA(e);
        ENGINE_unregister_EC(e);
        ENGINE_unregister_RAND(e);
        ENGINE_unregister_ciphers(e);
        ENGINE_unregister_digests(e);
        ENGINE_free(e); /* the structural reference; ENGINE_init's functional one stays */
        engine = e;
    } else if (!ENGINE_ctrl_cmd_string(engine, "PIN", pin, 0)) {
        openssl_reason(error, length, "the pkcs11 engine");
        goto out;
    }
    if (stored_pin) {
        explicit_bzero(stored_pin, strlen(stored_pin));
        free(stored_pin);
    }
    stored_pin = strdup(pin);
    result = 0;
out:
    pthread_mutex_unlock(&lock);
    return result;
}

/* A read-write session on the token labelled `label`, logged in as the user. */
static int open_session(const char *label, const char *pin, CK_SESSION_HANDLE *session, char *error, size_t length) {
    if (!p11) { say(error, length, "no PKCS#11 module is open"); return -1; }
    CK_ULONG count = 0;
    CK_RV rv = p11->C_GetSlotList(CK_TRUE, NULL, &count);
    if (rv != CKR_OK) { p11_reason(error, length, "C_GetSlotList", rv); return -1; }
    CK_SLOT_ID *slots = calloc(count ? count : 1, sizeof *slots);
    if (!slots) { say(error, length, "out of memory"); return -1; }
    rv = p11->C_GetSlotList(CK_TRUE, slots, &count);
    int found = -1;
    char padded[33];
    snprintf(padded, sizeof padded, "%-32s", label);
    for (CK_ULONG i = 0; rv == CKR_OK && i < count && found < 0; i++) {
        CK_TOKEN_INFO info;
        if (p11->C_GetTokenInfo(slots[i], &info) == CKR_OK && memcmp(info.label, padded, 32) == 0) found = (int)i;
    }
    if (found < 0) {
        free(slots);
        snprintf(error, length, "no token labelled \"%s\" in the module", label);
        return -1;
    }
    rv = p11->C_OpenSession(slots[found], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, session);
    free(slots);
    if (rv != CKR_OK) { p11_reason(error, length, "C_OpenSession", rv); return -1; }
    rv = p11->C_Login(*session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        p11->C_CloseSession(*session);
        p11_reason(error, length, "C_Login", rv);
        return -1;
    }
    return 0;
}

int trackerd_token_generate(const char *label, const char *object, const unsigned char *id, size_t id_length,
                            int rsa_bits, char *error, size_t length) {
    pthread_mutex_lock(&lock);
    CK_SESSION_HANDLE session;
    if (open_session(label, stored_pin ? stored_pin : "", &session, error, length) != 0) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    static CK_BYTE p256[] = { 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
    CK_ULONG bits = (CK_ULONG)rsa_bits;
    CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
    CK_ATTRIBUTE public_ec[] = {
        { CKA_TOKEN, &yes, sizeof yes }, { CKA_VERIFY, &yes, sizeof yes }, { CKA_LABEL, (void *)object, strlen(object) },
        { CKA_ID, (void *)id, id_length }, { CKA_EC_PARAMS, p256, sizeof p256 },
    };
    CK_ATTRIBUTE public_rsa[] = {
        { CKA_TOKEN, &yes, sizeof yes }, { CKA_VERIFY, &yes, sizeof yes }, { CKA_LABEL, (void *)object, strlen(object) },
        { CKA_ID, (void *)id, id_length }, { CKA_MODULUS_BITS, &bits, sizeof bits },
        { CKA_PUBLIC_EXPONENT, exponent, sizeof exponent },
    };
    CK_ATTRIBUTE private[] = {
        { CKA_TOKEN, &yes, sizeof yes }, { CKA_PRIVATE, &yes, sizeof yes }, { CKA_SIGN, &yes, sizeof yes },
        { CKA_SENSITIVE, &yes, sizeof yes }, { CKA_EXTRACTABLE, &no, sizeof no },
        { CKA_LABEL, (void *)object, strlen(object) }, { CKA_ID, (void *)id, id_length },
    };
    CK_MECHANISM mechanism = { rsa_bits > 0 ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0 };
    CK_OBJECT_HANDLE public_key, private_key;
    CK_RV rv = rsa_bits > 0
        ? p11->C_GenerateKeyPair(session, &mechanism, public_rsa, 6, private, 7, &public_key, &private_key)
        : p11->C_GenerateKeyPair(session, &mechanism, public_ec, 5, private, 7, &public_key, &private_key);
    p11->C_CloseSession(session);
    pthread_mutex_unlock(&lock);
    if (rv != CKR_OK) { p11_reason(error, length, "C_GenerateKeyPair", rv); return -1; }
    return 0;
}

/* Objects with CKA_ID `id` (when not NULL), label `object` (when not NULL) and class `class`
 * (any when -1), up to `max`. */
static int find(CK_SESSION_HANDLE session, const char *object, const unsigned char *id, size_t id_length, long class,
                CK_OBJECT_HANDLE *objects, CK_ULONG max, CK_ULONG *found, char *error, size_t length) {
    CK_OBJECT_CLASS wanted = (CK_OBJECT_CLASS)class;
    CK_ATTRIBUTE query[3];
    CK_ULONG count = 0;
    if (id) query[count++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_length };
    if (object) query[count++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)object, strlen(object) };
    if (class >= 0) query[count++] = (CK_ATTRIBUTE){ CKA_CLASS, &wanted, sizeof wanted };
    if (count == 0) { say(error, length, "no key named"); return -1; }
    CK_RV rv = p11->C_FindObjectsInit(session, query, count);
    if (rv != CKR_OK) { p11_reason(error, length, "C_FindObjectsInit", rv); return -1; }
    rv = p11->C_FindObjects(session, objects, max, found);
    p11->C_FindObjectsFinal(session);
    if (rv != CKR_OK) { p11_reason(error, length, "C_FindObjects", rv); return -1; }
    return 0;
}

int trackerd_token_destroy(const char *label, const char *object, const unsigned char *id, size_t id_length,
                           char *error, size_t length) {
    pthread_mutex_lock(&lock);
    CK_SESSION_HANDLE session;
    int result = -1;
    if (open_session(label, stored_pin ? stored_pin : "", &session, error, length) != 0) goto out;
    CK_OBJECT_HANDLE objects[16];
    CK_ULONG found = 0;
    if (find(session, object, id, id_length, -1, objects, 16, &found, error, length) == 0) {
        result = 0;
        for (CK_ULONG i = 0; i < found; i++) {
            CK_RV rv = p11->C_DestroyObject(session, objects[i]);
            if (rv != CKR_OK) { p11_reason(error, length, "C_DestroyObject", rv); result = -1; break; }
            result++;
        }
    }
    p11->C_CloseSession(session);
out:
    pthread_mutex_unlock(&lock);
    return result;
}

int trackerd_token_has_key(const char *label, const unsigned char *id, size_t id_length, char *error, size_t length) {
    pthread_mutex_lock(&lock);
    CK_SESSION_HANDLE session;
    int result = -1;
    if (open_session(label, stored_pin ? stored_pin : "", &session, error, length) == 0) {
        CK_OBJECT_HANDLE object;
        CK_ULONG found = 0;
        if (find(session, NULL, id, id_length, CKO_PRIVATE_KEY, &object, 1, &found, error, length) == 0) result = found > 0;
        p11->C_CloseSession(session);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

static EVP_PKEY *load_key(const char *uri, char *error, size_t length) {
    pthread_mutex_lock(&lock);
    EVP_PKEY *key = NULL;
    if (!engine) say(error, length, "no PKCS#11 module is open");
    else if (!(key = ENGINE_load_private_key(engine, uri, NULL, NULL))) openssl_reason(error, length, "cannot load the token key");
    pthread_mutex_unlock(&lock);
    return key;
}

char *trackerd_token_csr(const char *uri, const char *common_name, char *error, size_t length) {
    EVP_PKEY *key = load_key(uri, error, length);
    if (!key) return NULL;
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (req && name && bio
        && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0)
        && X509_REQ_set_subject_name(req, name) && X509_REQ_set_pubkey(req, key)
        && X509_REQ_sign(req, key, EVP_sha256()) > 0 && PEM_write_bio_X509_REQ(bio, req)) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n >= 0 && (out = malloc((size_t)n + 1))) { memcpy(out, data, (size_t)n); out[n] = 0; }
    } else {
        openssl_reason(error, length, "the token could not sign the CSR");
    }
    BIO_free(bio);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return out;
}

int trackerd_token_certificate_matches(const char *cert_pem, const char *uri, char *error, size_t length) {
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) { ERR_clear_error(); say(error, length, "not a PEM certificate"); return -1; }
    EVP_PKEY *key = load_key(uri, error, length);
    if (!key) { X509_free(cert); return -2; }
    EVP_PKEY *public = X509_get0_pubkey(cert);
    int result = public && EVP_PKEY_eq(public, key) == 1 ? 1 : 0;
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(cert);
    return result;
}

void *trackerd_token_tls_context(const char *cert_file, const char *uri, const char *ca_file, const char *host,
                                 const char *alpn, char *error, size_t length) {
    EVP_PKEY *key = load_key(uri, error, length);
    if (!key) return NULL;
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (!context) { openssl_reason(error, length, "TLS context"); EVP_PKEY_free(key); return NULL; }
    unsigned char protocols[256];
    size_t alpn_length = alpn ? strlen(alpn) : 0;
    if (alpn_length > 0 && alpn_length < 255) {
        protocols[0] = (unsigned char)alpn_length;
        memcpy(protocols + 1, alpn, alpn_length);
    }
    unsigned char address[16];
    int is_ip = inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(context);
    if (SSL_CTX_use_certificate_chain_file(context, cert_file) != 1) {
        openssl_reason(error, length, "cannot use the certificate");
    } else if (SSL_CTX_use_PrivateKey(context, key) != 1 || SSL_CTX_check_private_key(context) != 1) {
        openssl_reason(error, length, "the certificate is not for the token key");
    } else if (SSL_CTX_load_verify_file(context, ca_file) != 1) {
        openssl_reason(error, length, "cannot use the CA file");
    } else if (!SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
               || !(is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : X509_VERIFY_PARAM_set1_host(param, host, 0))
               || (alpn_length > 0 && SSL_CTX_set_alpn_protos(context, protocols, (unsigned int)alpn_length + 1) != 0)) {
        openssl_reason(error, length, "TLS settings");
    } else {
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION);
        SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
        EVP_PKEY_free(key);
        return context;
    }
    EVP_PKEY_free(key);
    SSL_CTX_free(context);
    return NULL;
}

void trackerd_token_tls_context_free(void *context) { SSL_CTX_free(context); }
