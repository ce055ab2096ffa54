/* Keystone v3 authentication: password, token and application
 * credential, scoped to a project. */
#ifndef CB_CINDER_KEYSTONE_H
#define CB_CINDER_KEYSTONE_H

#include <jansson.h>

#include "http.h"
#include "os_config.h"

struct cb_keystone_token {
	char *id;		/* the token itself: a secret */
	char *project_id;
	char *expires_at;
	json_t *catalog;
};

void cb_keystone_token_free(struct cb_keystone_token *t);

/* POST URL for tokens: auth_url with "/v3" added unless it ends in
 * it ("http://h:5000" and "http://h:5000/v3/" both give
 * "http://h:5000/v3/auth/tokens").  NULL on ENOMEM. */
char *cb_keystone_tokens_url(const char *auth_url);

/* The {"auth": ...} request body for c->auth_type.  The scope is the
 * project, by ID when known, else by name and domain; application
 * credentials carry their own scope, so none is sent. */
json_t *cb_keystone_auth_body(const struct cb_os_config *c);

/* Authenticates with the resolved config c.  The token comes from the
 * X-Subject-Token header; the catalog and project from the body.
 * -1 with Keystone's own message on failure. */
int cb_keystone_authenticate(struct cb_http *h, const struct cb_os_config *c,
			     struct cb_keystone_token *t);

#endif
