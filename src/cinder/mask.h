/* Hiding secrets from debug logs and error messages.
 *
 * The client logs whole HTTP exchanges in debug mode.  Keystone requests
 * carry passwords and application-credential secrets, Keystone answers
 * carry the token in a header, and Cinder's connection_info can carry a
 * Ceph keyring or CHAP passwords: all of that goes through here first.
 */
#ifndef CB_CINDER_MASK_H
#define CB_CINDER_MASK_H

#include <stdbool.h>

#include <jansson.h>

#define CB_MASK "***"

/* True for JSON keys whose values are secrets ("password", "auth_password",
 * "secret", "keyring", "token", ...).  Case-insensitive. */
bool cb_mask_is_secret_key(const char *key);

/* Replace every secret value in the tree, in place. */
void cb_mask_json(json_t *root);

/* Compact JSON text of a masked deep copy of root.  NULL on ENOMEM. */
char *cb_mask_dump(const json_t *root);

/* A copy of the text of an HTTP body fit for a log: masked JSON when it
 * parses, else the text as is (our requests are always JSON; other
 * bodies are servers' error pages). */
char *cb_mask_body(const char *body, size_t len);

/* A copy of one "Name: value" header line, with the value of
 * X-Auth-Token, X-Subject-Token and X-Service-Token replaced. */
char *cb_mask_header(const char *line);

#endif
