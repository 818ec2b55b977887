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
 * Options (mosquitto.conf): plugin_opt_identities FILE, plugin_opt_telemetry_topic (gpsTopic),
 * plugin_opt_service (localcloud), plugin_opt_claim (claim).
 */
#include <errno.h>
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

/* The identities: an open-addressing table of identity -> thing, grown by doubling. */
struct entry {
    char *identity;
    char *thing;
};

static struct {
    char *path;
    char *telemetry;
    char *service;
    char *claim;
    struct entry *entries;
    size_t capacity;
    size_t count;
    off_t read_to;
    ino_t inode;
} acl;

static mosquitto_plugin_id_t *plugin_id;

static size_t hash(const char *text) {
    size_t h = 1469598103934665603ULL;
    for (; *text; text++) h = (h ^ (unsigned char)*text) * 1099511628211ULL;
    return h;
}

static struct entry *slot(const char *identity) {
    size_t i = hash(identity) & (acl.capacity - 1);
    while (acl.entries[i].identity && strcmp(acl.entries[i].identity, identity) != 0) i = (i + 1) & (acl.capacity - 1);
    return &acl.entries[i];
}

static void forget_all(void) {
    for (size_t i = 0; i < acl.capacity; i++) {
        free(acl.entries[i].identity);
        free(acl.entries[i].thing);
    }
    free(acl.entries);
    acl.entries = NULL;
    acl.capacity = acl.count = 0;
    acl.read_to = 0;
}

static int grow(void) {
    size_t capacity = acl.capacity ? acl.capacity * 2 : 1024;
    struct entry *old = acl.entries;
    size_t old_capacity = acl.capacity;
    struct entry *entries = calloc(capacity, sizeof *entries);
    if (!entries) return -1;
    acl.entries = entries;
    acl.capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].identity) *slot(old[i].identity) = old[i];
    }
    free(old);
    return 0;
}

/* A rotation re-registers a thing under a new identity: both stay until the CRL refuses the old. */
static void remember(const char *identity, const char *thing) {
    if ((acl.count + 1) * 2 > acl.capacity && grow() != 0) return;
    struct entry *e = slot(identity);
    if (e->identity) {
        char *copy = strdup(thing);
        if (copy) { free(e->thing); e->thing = copy; }
        return;
    }
    e->identity = strdup(identity);
    e->thing = strdup(thing);
    if (!e->identity || !e->thing) { free(e->identity); free(e->thing); e->identity = e->thing = NULL; return; }
    acl.count++;
}

/* Reads the lines appended since the last read (all of them if the file was replaced). */
static void catch_up(void) {
    struct stat info;
    if (!acl.path || stat(acl.path, &info) != 0) return;
    if (info.st_ino != acl.inode || info.st_size < acl.read_to) {
        forget_all();
        acl.inode = info.st_ino;
    }
    if (info.st_size == acl.read_to) return;
    FILE *file = fopen(acl.path, "r");
    if (!file) return;
    if (fseeko(file, acl.read_to, SEEK_SET) != 0) { fclose(file); return; }
    char line[1024];
    off_t position = acl.read_to;
    while (fgets(line, sizeof line, file)) {
        size_t length = strlen(line);
        if (length == 0 || line[length - 1] != '\n') break; /* a line being written: next time */
        position += (off_t)length;
        line[length - 1] = 0;
        char *space = strchr(line, ' ');
        if (!space || space == line || space[1] == 0) continue;
        *space = 0;
        remember(line, space + 1);
    }
    acl.read_to = position;
    fclose(file);
}

static const char *thing_of(const char *identity) {
    if (acl.capacity) {
        struct entry *e = slot(identity);
        if (e->identity) return e->thing;
    }
    catch_up();
    if (!acl.capacity) return NULL;
    struct entry *e = slot(identity);
    return e->identity ? e->thing : NULL;
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

static int acl_check(int event, void *event_data, void *userdata) {
    (void)event;
    (void)userdata;
    struct mosquitto_evt_acl_check *check = event_data;
    if (check->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS;
    int access = check->access == MOSQ_ACL_WRITE ? WRITE : READ; /* read and subscribe */
    const char *identity = mosquitto_client_username(check->client);
    if (!identity) return MOSQ_ERR_ACL_DENIED;
    if (strcmp(identity, acl.service) == 0) return MOSQ_ERR_SUCCESS;
    if (strcmp(identity, acl.claim) == 0) return allowed(claim_rules, NULL, check->topic, access) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
    /* A thing's name in a pattern must be one level with no wildcard (AWS allows [a-zA-Z0-9:_-]). */
    const char *thing = thing_of(identity);
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
        if (strcmp(options[i].key, "identities") == 0) target = &acl.path;
        else if (strcmp(options[i].key, "telemetry_topic") == 0) target = &acl.telemetry;
        else if (strcmp(options[i].key, "service") == 0) target = &acl.service;
        else if (strcmp(options[i].key, "claim") == 0) target = &acl.claim;
        if (target) { free(*target); *target = strdup(options[i].value); }
    }
    if (!acl.path || !acl.telemetry || !acl.service || !acl.claim) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "localcloud ACL: plugin_opt_identities is required");
        return MOSQ_ERR_INVAL;
    }
    catch_up();
    mosquitto_log_printf(MOSQ_LOG_INFO, "localcloud ACL: %zu identities from %s", acl.count, acl.path);
    return mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count) {
    (void)userdata;
    (void)options;
    (void)option_count;
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL);
    forget_all();
    free(acl.path);
    free(acl.telemetry);
    free(acl.service);
    free(acl.claim);
    memset(&acl, 0, sizeof acl);
    return MOSQ_ERR_SUCCESS;
}
