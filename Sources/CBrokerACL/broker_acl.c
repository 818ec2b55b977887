/*
 * localcloud's broker ACL, as a Mosquitto 2.0 plugin: the AWS policies of the original design
 * (the claim identity reaches only the provisioning topics; a certificate gains a thing's
 * topics only once RegisterThing accepted it; localcloud's own client reads and writes what
 * it serves), decided per check from a table of certificate identities and their things.
 *
 * Why a plugin and not Mosquitto's acl_file: an acl_file lists every thing, so each
 * registration rewrote it and reloaded the broker (SIGHUP), O(N) work per device — at a
 * thousand first boots the broker spent its time rereading its ACL. Here a registration is one
 * line appended to the identities file ("IDENTITY THING\n"); the plugin reads what was
 * appended when it meets an identity it does not know. No reload, O(1) per registration.
 *
 * It also routes fleet provisioning's replies as AWS does, to the requesting connection only:
 * localcloud appends "HASH CLIENTID" (FNV-1a 64 of the reply's payload) to the replies file
 * before it publishes a reply, and a delivery to any other client is refused.
 *
 * Options (mosquitto.conf): plugin_opt_identities FILE, plugin_opt_replies FILE,
 * plugin_opt_telemetry_topic (gpsTopic),
 * plugin_opt_service (localcloud), plugin_opt_claim (claim).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include "broker_acl.h"

#define READ 1
#define WRITE 2

struct rule {
    const char *pattern; /* %t: the thing's name */
    int access;
};

/* CreateCertificateFromCsr and RegisterThing: the claim's at first boot, each thing's own when
 * it rotates its certificate. */
#define CERTIFICATE_REQUESTS \
    {"$aws/certificates/create-from-csr/json", WRITE}, \
    {"$aws/certificates/create-from-csr/json/accepted", READ}, \
    {"$aws/certificates/create-from-csr/json/rejected", READ}, \
    {"$aws/provisioning-templates/+/provision/json", WRITE}, \
    {"$aws/provisioning-templates/+/provision/json/accepted", READ}, \
    {"$aws/provisioning-templates/+/provision/json/rejected", READ}

static const struct rule claim_rules[] = {
    {"$aws/certificates/create/json", WRITE},
    {"$aws/certificates/create/json/accepted", READ},
    {"$aws/certificates/create/json/rejected", READ},
    CERTIFICATE_REQUESTS,
    {NULL, 0},
};

static const struct rule thing_rules[] = {
    {"%T", WRITE}, /* the telemetry topic */
    {"trackers/%t/#", READ | WRITE},
    {"$aws/things/%t/shadow/name/+/get", WRITE},
    {"$aws/things/%t/shadow/name/+/update", WRITE},
    {"$aws/things/%t/shadow/name/+/get/+", READ},
    {"$aws/things/%t/shadow/name/+/update/+", READ},
    CERTIFICATE_REQUESTS,
    {"$aws/things/%t/jobs/start-next", WRITE},
    {"$aws/things/%t/jobs/get", WRITE},
    {"$aws/things/%t/jobs/+/update", WRITE},
    {"$aws/things/%t/jobs/+/get", WRITE},
    {"$aws/things/%t/jobs/notify", READ},
    {"$aws/things/%t/jobs/notify-next", READ},
    {"$aws/things/%t/jobs/start-next/+", READ},
    {"$aws/things/%t/jobs/get/+", READ},
    {"$aws/things/%t/jobs/+/update/+", READ},
    {"$aws/things/%t/jobs/+/get/+", READ},
    {NULL, 0},
};

/* A table read from an append-only file of "KEY VALUE" lines: an open-addressing hash map,
 * grown by doubling, caught up with what was appended when a key is not found. */
struct entry {
    char *key;
    char *value;
};

struct table {
    char *path;
    /* A set of whole lines (replies) rather than a map of first word to the rest (identities). */
    int whole_lines;
    struct entry *entries;
    size_t capacity;
    size_t count;
    off_t read_to;
    ino_t inode;
};

static struct {
    struct table identities; /* certificate identity -> thing */
    struct table replies;    /* "HASH CLIENT" -> "" : who a provisioning reply is for */
    char *telemetry;
    char *service;
    char *claim;
} acl;

static mosquitto_plugin_id_t *plugin_id;

static uint64_t fnv1a(const void *bytes, size_t length) {
    uint64_t h = 14695981039346656037ULL;
    const unsigned char *p = bytes;
    for (size_t i = 0; i < length; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static struct entry *slot(struct table *t, const char *key) {
    size_t i = (size_t)fnv1a(key, strlen(key)) & (t->capacity - 1);
    while (t->entries[i].key && strcmp(t->entries[i].key, key) != 0) i = (i + 1) & (t->capacity - 1);
    return &t->entries[i];
}

static void forget_all(struct table *t) {
    for (size_t i = 0; i < t->capacity; i++) {
        free(t->entries[i].key);
        free(t->entries[i].value);
    }
    free(t->entries);
    t->entries = NULL;
    t->capacity = t->count = 0;
    t->read_to = 0;
}

static int grow(struct table *t) {
    size_t old_capacity = t->capacity;
    struct entry *old = t->entries;
    size_t capacity = old_capacity ? old_capacity * 2 : 1024;
    struct entry *entries = calloc(capacity, sizeof *entries);
    if (!entries) return -1;
    t->entries = entries;
    t->capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].key) *slot(t, old[i].key) = old[i];
    }
    free(old);
    return 0;
}

/* A later line for the same key wins (a rotation re-registers a thing under a new identity; both
 * identities stay until the CRL refuses the old). */
static void remember(struct table *t, const char *key, const char *value) {
    if ((t->count + 1) * 2 > t->capacity && grow(t) != 0) return;
    struct entry *e = slot(t, key);
    char *copy = strdup(value);
    if (!copy) return;
    if (e->key) {
        free(e->value);
        e->value = copy;
        return;
    }
    e->key = strdup(key);
    if (!e->key) { free(copy); return; }
    e->value = copy;
    t->count++;
}

/* Reads the lines appended since the last read (all of them if the file was replaced). */
static void catch_up(struct table *t) {
    struct stat info;
    if (!t->path || stat(t->path, &info) != 0) return;
    if (info.st_ino != t->inode || info.st_size < t->read_to) {
        forget_all(t);
        t->inode = info.st_ino;
    }
    if (info.st_size == t->read_to) return;
    FILE *file = fopen(t->path, "r");
    if (!file) return;
    if (fseeko(file, t->read_to, SEEK_SET) != 0) { fclose(file); return; }
    char line[1024];
    off_t position = t->read_to;
    while (fgets(line, sizeof line, file)) {
        size_t length = strlen(line);
        if (length == 0 || line[length - 1] != '\n') break; /* a line being written: next time */
        position += (off_t)length;
        line[length - 1] = 0;
        char *space = strchr(line, ' ');
        if (!space || space == line || space[1] == 0) continue;
        if (t->whole_lines) {
            remember(t, line, "");
        } else {
            *space = 0;
            remember(t, line, space + 1);
        }
    }
    t->read_to = position;
    fclose(file);
}

static const char *lookup(struct table *t, const char *key) {
    if (t->capacity) {
        struct entry *e = slot(t, key);
        if (e->key) return e->value;
    }
    catch_up(t);
    if (!t->capacity) return NULL;
    struct entry *e = slot(t, key);
    return e->key ? e->value : NULL;
}

/* Level by level: '#' covers the rest, '+' one level (not a '#' in a filter), else equal. */
int localcloud_acl_covers(const char *pattern, const char *topic) {
    while (1) {
        const char *pattern_end = strchr(pattern, '/');
        const char *topic_end = strchr(topic, '/');
        size_t pattern_length = pattern_end ? (size_t)(pattern_end - pattern) : strlen(pattern);
        size_t topic_length = topic_end ? (size_t)(topic_end - topic) : strlen(topic);
        if (pattern_length == 1 && pattern[0] == '#') return 1;
        if (pattern_length == 1 && pattern[0] == '+') {
            if (topic_length == 1 && topic[0] == '#') return 0;
        } else if (pattern_length != topic_length || strncmp(pattern, topic, pattern_length) != 0 ||
                   (topic_length == 1 && (topic[0] == '+' || topic[0] == '#'))) {
            return 0;
        }
        /* "a/#" covers "a" too, as in MQTT. */
        if (!topic_end && pattern_end && strcmp(pattern_end + 1, "#") == 0) return 1;
        if (!pattern_end || !topic_end) return !pattern_end && !topic_end;
        pattern = pattern_end + 1;
        topic = topic_end + 1;
    }
}

static int allowed(const struct rule *rules, const char *thing, const char *topic, int access) {
    char pattern[512];
    for (; rules->pattern; rules++) {
        if (!(rules->access & access)) continue;
        const char *source = rules->pattern;
        if (strcmp(source, "%T") == 0) {
            snprintf(pattern, sizeof pattern, "%s", acl.telemetry);
        } else {
            const char *mark = strstr(source, "%t");
            if (mark) {
                if (snprintf(pattern, sizeof pattern, "%.*s%s%s", (int)(mark - source), source, thing, mark + 2) >= (int)sizeof pattern) continue;
            } else {
                snprintf(pattern, sizeof pattern, "%s", source);
            }
        }
        if (localcloud_acl_covers(pattern, topic)) return 1;
    }
    return 0;
}

/* The provisioning replies AWS sends to the requesting connection alone. On Mosquitto every
 * subscriber of the shared topic would get them: devices booting at the same moment took each
 * other's certificates. localcloud says who each reply is for before it publishes it. */
static const char *const reply_topics[] = {
    "$aws/certificates/create/json/+",
    "$aws/certificates/create-from-csr/json/+",
    "$aws/provisioning-templates/+/provision/json/+",
    NULL,
};

static int meant_for(const struct mosquitto_evt_acl_check *check) {
    int reply = 0;
    for (const char *const *pattern = reply_topics; *pattern && !reply; pattern++) reply = localcloud_acl_covers(*pattern, check->topic);
    if (!reply) return 1;
    const char *client = mosquitto_client_id(check->client);
    if (!client) return 0;
    char key[600];
    snprintf(key, sizeof key, "%016llx %s", (unsigned long long)fnv1a(check->payload, check->payloadlen), client);
    return lookup(&acl.replies, key) != NULL;
}

static int acl_check(int event, void *event_data, void *userdata) {
    (void)event;
    (void)userdata;
    struct mosquitto_evt_acl_check *check = event_data;
    if (check->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS;
    int access = check->access == MOSQ_ACL_WRITE ? WRITE : READ; /* read and subscribe */
    const char *identity = mosquitto_client_username(check->client);
    if (!identity) return MOSQ_ERR_ACL_DENIED;
    if (strcmp(identity, acl.service) == 0) return MOSQ_ERR_SUCCESS;
    /* A delivery (read) of a provisioning reply goes only to the client it answers. */
    if (check->access == MOSQ_ACL_READ && !meant_for(check)) return MOSQ_ERR_ACL_DENIED;
    if (strcmp(identity, acl.claim) == 0) return allowed(claim_rules, NULL, check->topic, access) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
    /* A thing's name in a pattern must be one level with no wildcard (AWS allows [a-zA-Z0-9:_-]). */
    const char *thing = lookup(&acl.identities, identity);
    if (!thing || strpbrk(thing, "/+#")) return MOSQ_ERR_ACL_DENIED;
    return allowed(thing_rules, thing, check->topic, access) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions) {
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) return 5;
    }
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count) {
    (void)userdata;
    plugin_id = identifier;
    acl.telemetry = strdup("gpsTopic");
    acl.service = strdup("localcloud");
    acl.claim = strdup("claim");
    for (int i = 0; i < option_count; i++) {
        char **target = NULL;
        if (strcmp(options[i].key, "identities") == 0) target = &acl.identities.path;
        else if (strcmp(options[i].key, "replies") == 0) target = &acl.replies.path;
        else if (strcmp(options[i].key, "telemetry_topic") == 0) target = &acl.telemetry;
        else if (strcmp(options[i].key, "service") == 0) target = &acl.service;
        else if (strcmp(options[i].key, "claim") == 0) target = &acl.claim;
        if (target) { free(*target); *target = strdup(options[i].value); }
    }
    if (!acl.identities.path || !acl.replies.path || !acl.telemetry || !acl.service || !acl.claim) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "localcloud ACL: plugin_opt_identities and plugin_opt_replies are required");
        return MOSQ_ERR_INVAL;
    }
    acl.replies.whole_lines = 1;
    catch_up(&acl.identities);
    catch_up(&acl.replies);
    mosquitto_log_printf(MOSQ_LOG_INFO, "localcloud ACL: %zu identities from %s", acl.identities.count, acl.identities.path);
    return mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count) {
    (void)userdata;
    (void)options;
    (void)option_count;
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL);
    forget_all(&acl.identities);
    forget_all(&acl.replies);
    free(acl.identities.path);
    free(acl.replies.path);
    free(acl.telemetry);
    free(acl.service);
    free(acl.claim);
    memset(&acl, 0, sizeof acl);
    return MOSQ_ERR_SUCCESS;
}
