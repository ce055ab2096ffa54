/* The Cinder client handle: authentication, endpoint, microversion and
 * the request plumbing.  The API calls are in volumes.c, attachments.c
 * and actions.c. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"
#include "token_cache.h"

static void wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static bool is_noauth(const struct cb_cinder *c)
{
	return strcmp(c->cfg.auth_type, "noauth") == 0;
}

/* Cinder's noauth middleware reads "user:project" from X-Auth-Token. */
static int authenticate_noauth(struct cb_cinder *c)
{
	const char *user = c->cfg.user_id ? c->cfg.user_id : c->cfg.project_id;

	c->project_id = c->cfg.project_id;
	if (asprintf(&c->auth, "%s:%s", user, c->cfg.project_id) < 0) {
		c->auth = NULL;
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

/* A token from the cache when reuse is allowed and it has one, else a
 * new one from Keystone, which the cache then keeps. */
static int get_token(struct cb_cinder *c, bool reuse, struct cb_keystone_token *t)
{
	if (reuse && cb_token_cache_load(&c->cfg, t) == 0)
		return 0;
	if (cb_keystone_authenticate(c->http, &c->cfg, t) < 0)
		return -1;
	cb_token_cache_store(&c->cfg, t);
	return 0;
}

/* The old token stays in place until a new one has been had, so a
 * failed renewal leaves the handle as it was. */
static int authenticate(struct cb_cinder *c, bool reuse)
{
	struct cb_keystone_token fresh;
	char *auth;

	if (is_noauth(c))
		return authenticate_noauth(c);
	if (get_token(c, reuse, &fresh) < 0)
		return -1;
	auth = strdup(fresh.id);
	if (!auth) {
		cb_keystone_token_free(&fresh);
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	cb_keystone_token_free(&c->token);
	c->token = fresh;
	wipe_free(c->auth);
	c->auth = auth;
	c->project_id = c->token.project_id;
	return 0;
}

static int find_endpoint(struct cb_cinder *c)
{
	char *url = c->cfg.endpoint ? strdup(c->cfg.endpoint) :
		    cb_catalog_endpoint(c->token.catalog, cb_volume_service_types,
					c->cfg.interface, c->cfg.region_name);
	int ret;

	if (!url) {
		if (c->cfg.endpoint)
			cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	ret = cb_volume_endpoint_split(url, c->project_id, &c->root, &c->base);
	free(url);
	return ret;
}

/* The version root is public in Cinder: no token is sent to it. */
static int discover(struct cb_cinder *c)
{
	struct cb_http_req req = {
		.what = "Cinder version discovery", .method = "GET",
	};
	struct cb_http_resp resp;
	char *url, msg[512];
	int ret = -1;

	if (asprintf(&url, "%s/", c->root) < 0) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	req.url = url;
	if (cb_http_do(c->http, &req, &resp) == 0) {
		ret = cb_microversion_max_from_doc(resp.body, 3, &c->max);
		if (ret < 0) {
			snprintf(msg, sizeof msg, "%s", cb_get_error());
			cb_set_error(cb_get_errno(), "%s (GET %s): %s", req.what, url, msg);
		}
	}
	cb_http_resp_free(&resp);
	free(url);
	return ret;
}

static int negotiate(struct cb_cinder *c)
{
	struct cb_microversion want = CB_CINDER_MV_PREFERRED;

	if (c->cfg.volume_api_version) {
		if (cb_microversion_parse(c->cfg.volume_api_version, &want) < 0)
			return -1;
		if (cb_microversion_cmp(want, c->max) > 0) {
			cb_set_error(ENOTSUP, "volume API version %s was asked for, but "
				     "Cinder at %s supports up to %d.%d",
				     c->cfg.volume_api_version, c->base,
				     c->max.major, c->max.minor);
			return -1;
		}
	}
	c->mv = cb_microversion_cmp(want, c->max) < 0 ? want : c->max;
	snprintf(c->mv_header, sizeof c->mv_header, "volume %d.%d",
		 c->mv.major, c->mv.minor);
	return 0;
}

struct cb_cinder *cb_cinder_open(const struct cb_os_config *cfg)
{
	struct cb_cinder *c;
	struct cb_http_opts opts = {
		.cacert = cfg->cacert, .cert = cfg->cert, .key = cfg->key,
		.insecure = cb_os_config_insecure(cfg), .debug = cfg->debug,
		.retries = CB_HTTP_RETRIES, .backoff_ms = CB_HTTP_BACKOFF_MS,
	};

	if (!cfg->auth_type || !cfg->interface) {
		cb_set_error(EINVAL, "the OpenStack settings were not resolved");
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	if (cb_os_config_copy(&c->cfg, cfg) < 0) {
		free(c);
		return NULL;
	}
	c->http = cb_http_new(&opts);
	if (!c->http || authenticate(c, true) < 0 || find_endpoint(c) < 0 ||
	    discover(c) < 0 || negotiate(c) < 0) {
		cb_cinder_close(c);
		return NULL;
	}
	cb_log(CB_LOG_DEBUG, "cinder: %s, microversion %d.%d (server maximum %d.%d)",
	       c->base, c->mv.major, c->mv.minor, c->max.major, c->max.minor);
	return c;
}

void cb_cinder_close(struct cb_cinder *c)
{
	if (!c)
		return;
	cb_keystone_token_free(&c->token);
	wipe_free(c->auth);
	cb_http_free(c->http);
	cb_os_config_free(&c->cfg);
	free(c->root);
	free(c->base);
	free(c);
}

struct cb_microversion cb_cinder_microversion(const struct cb_cinder *c)
{
	return c->mv;
}

struct cb_microversion cb_cinder_max_microversion(const struct cb_cinder *c)
{
	return c->max;
}

const char *cb_cinder_endpoint(const struct cb_cinder *c)
{
	return c->base;
}

const char *cb_cinder_project_id(const struct cb_cinder *c)
{
	return c->project_id;
}

/* Tokens expire (an hour by default) while a volume stays attached for
 * days, and a cached one may have been revoked: a 401 gets one fresh
 * token, when the config can make one, and the cache loses the old. */
static bool can_reauthenticate(const struct cb_cinder *c)
{
	return !is_noauth(c) && strcmp(c->cfg.auth_type, "token") != 0;
}

int cb_cinder_call(struct cb_cinder *c, const char *method, const char *path,
		   const json_t *body, const char *what, json_t **out)
{
	struct cb_http_req req = {
		.what = what, .method = method, .body = body,
		.token = c->auth, .api_version = c->mv_header,
	};
	struct cb_http_resp resp;
	char *url;
	int ret;

	if (out)
		*out = NULL;
	if (asprintf(&url, "%s%s", c->base, path) < 0) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	req.url = url;
	ret = cb_http_do(c->http, &req, &resp);
	if (ret < 0 && resp.status == 401 && can_reauthenticate(c)) {
		cb_log(CB_LOG_INFO, "%s: Cinder refused the token; authenticating again", what);
		cb_http_resp_free(&resp);
		cb_token_cache_drop(&c->cfg);
		if (authenticate(c, false) == 0) {
			req.token = c->auth;
			ret = cb_http_do(c->http, &req, &resp);
		}
	}
	if (ret == 0 && out) {
		*out = resp.body;
		resp.body = NULL;
	}
	cb_http_resp_free(&resp);
	free(url);
	return ret;
}

int cb_cinder_need(const struct cb_cinder *c, struct cb_microversion min,
		   const char *what)
{
	if (cb_microversion_cmp(c->mv, min) >= 0)
		return 0;
	cb_set_error(ENOTSUP, "%s needs Cinder API microversion %d.%d, but %d.%d is "
		     "in use (server maximum %d.%d)", what, min.major, min.minor,
		     c->mv.major, c->mv.minor, c->max.major, c->max.minor);
	return -1;
}

char *cb_cinder_path(const char *fmt, const char *id)
{
	char *escaped = cb_url_escape(id), *path = NULL;

	if (!escaped || asprintf(&path, fmt, escaped) < 0) {
		path = NULL;
		cb_set_error(ENOMEM, "out of memory");
	}
	free(escaped);
	return path;
}
