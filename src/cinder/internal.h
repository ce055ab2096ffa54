/* Shared by the files of the Cinder client (cinder.c, volumes.c,
 * attachments.c, actions.c); not part of its API. */
#ifndef CB_CINDER_INTERNAL_H
#define CB_CINDER_INTERNAL_H

#include <jansson.h>

#include "cinder.h"
#include "http.h"
#include "keystone.h"
#include "microversion.h"
#include "os_config.h"

struct cb_cinder {
	struct cb_os_config cfg;	/* a copy: authenticating again needs it */
	struct cb_http *http;
	struct cb_keystone_token token;	/* empty with noauth */
	char *auth;			/* X-Auth-Token value: secret */
	const char *project_id;		/* the token's, or the config's */
	char *root;			/* version discovery URL */
	char *base;			/* .../v3/<project_id> */
	struct cb_microversion max;
	struct cb_microversion mv;
	char mv_header[32];		/* "volume 3.70" */
};

/* One request to base + path.  *out (may be NULL) gets the answer's
 * JSON, NULL for an empty one.  what starts the error message. */
int cb_cinder_call(struct cb_cinder *c, const char *method, const char *path,
		   const json_t *body, const char *what, json_t **out);

/* -1 with ENOTSUP unless the negotiated microversion is at least min. */
int cb_cinder_need(const struct cb_cinder *c, struct cb_microversion min,
		   const char *what);

/* fmt with its one %s replaced by id, percent-encoded.  NULL on ENOMEM
 * (error set). */
char *cb_cinder_path(const char *fmt, const char *id);

#endif
