/* localcloud's Mosquitto plugin (a shared library the broker loads; nothing imports it). */
#ifndef LOCALCLOUD_BROKER_ACL_H
#define LOCALCLOUD_BROKER_ACL_H

/* Whether `pattern` (a rule: '+' one level, '#' the rest) lets a client `access` `topic`
 * (a topic name for read and write, a subscription filter for subscribe). Exposed for tests. */
int localcloud_acl_covers(const char *pattern, const char *topic);

#endif
