/* Keystone v3 authentication: see keystone.h. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "keystone.h"
#include "lib/error.h"

void cb_keystone_token_free(struct cb_keystone_token *t)
{
	if (t->id)
		explicit_bzero(t->id, strlen(t->id));
	free(t->id);
	free(t->project_id);
	free(t->expires_at);
	json_decref(t->catalog);
	memset(t, 0, sizeof *t);
}

char *cb_keystone_tokens_url(const char *auth_url)
{
	size_t n = strlen(auth_url);
	char *url;

	while (n && auth_url[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s%s/auth/tokens", (int)n, auth_url,
		     n >= 3 && strncmp(auth_url + n - 3, "/v3", 3) == 0 ? "" : "/v3") < 0)
		return NULL;
	return url;
}

/* {"id": ...} or {"name": ...}; NULL (left out) when neither is known. */
static json_t *domain_ref(const char *id, const char *name)
{
	if (id)
		return json_pack("{s:s}", "id", id);
	if (name)
		return json_pack("{s:s}", "name", name);
	return NULL;
}

static json_t *user_ref(const struct cb_os_config *c)
{
	if (c->user_id)
		return json_pack("{s:s}", "id", c->user_id);
	return json_pack("{s:s?, s:o*}", "name", c->username,
			 "domain", domain_ref(c->user_domain_id, c->user_domain_name));
}

static json_t *project_scope(const struct cb_os_config *c)
{
	if (c->project_id)
		return json_pack("{s:{s:s}}", "project", "id", c->project_id);
	return json_pack("{s:{s:s, s:o*}}", "project", "name", c->project_name, "domain",
			 domain_ref(c->project_domain_id, c->project_domain_name));
}

static json_t *password_identity(const struct cb_os_config *c)
{
	json_t *user = user_ref(c);

	if (user && json_object_set_new(user, "password", json_string(c->password)) < 0) {
		json_decref(user);
		return NULL;
	}
	return json_pack("{s:[s], s:{s:o}}", "methods", "password", "password",
			 "user", user);
}

static json_t *app_credential_identity(const struct cb_os_config *c)
{
	json_t *cred;

	if (c->application_credential_id)
		cred = json_pack("{s:s, s:s}", "id", c->application_credential_id,
				 "secret", c->application_credential_secret);
	else
		cred = json_pack("{s:s, s:s, s:o}", "name", c->application_credential_name,
				 "secret", c->application_credential_secret,
				 "user", user_ref(c));
	return json_pack("{s:[s], s:o}", "methods", "application_credential",
			 "application_credential", cred);
}

json_t *cb_keystone_auth_body(const struct cb_os_config *c)
{
	const char *type = c->auth_type ? c->auth_type : "password";

	if (strcmp(type, "v3applicationcredential") == 0)
		return json_pack("{s:{s:o}}", "auth", "identity",
				 app_credential_identity(c));
	if (strcmp(type, "token") == 0)
		return json_pack("{s:{s:{s:[s], s:{s:s}}, s:o}}", "auth", "identity",
				 "methods", "token", "token", "id", c->token,
				 "scope", project_scope(c));
	return json_pack("{s:{s:o, s:o}}", "auth", "identity", password_identity(c),
			 "scope", project_scope(c));
}

/* "Keystone authentication of user demo": who, never with what. */
static char *describe(const struct cb_os_config *c)
{
	const char *who = c->application_credential_id ? c->application_credential_id :
			  c->application_credential_name ? c->application_credential_name :
			  c->username ? c->username : c->user_id;
	const char *kind = c->application_credential_id || c->application_credential_name ?
			   "application credential" : "user";
	char *s;

	if (strcmp(c->auth_type, "token") == 0)
		return strdup("Keystone authentication with a token");
	if (asprintf(&s, "Keystone authentication of %s %s", kind, who ? who : "?") < 0)
		return NULL;
	return s;
}

/* The token's project ID and catalog, which Cinder needs; NULL with the
 * error set when the answer lacks them. */
static const char *scope_of(const json_t *body, const char *what, json_t **catalog)
{
	json_t *token = cb_answer_member(body, NULL, "token", JSON_OBJECT, what);
	json_t *project;
	const char *id;

	if (!token)
		return NULL;
	if (!json_object_get(token, "project")) {
		cb_set_error(EPROTO, "%s: Keystone gave a token that is not scoped to a "
			     "project (\"token\" in the answer has no \"project\"), and "
			     "Cinder needs one: give a project", what);
		return NULL;
	}
	project = cb_answer_member(token, "token", "project", JSON_OBJECT, what);
	id = project ? cb_answer_id(project, "token.project", "id", what) : NULL;
	if (!id)
		return NULL;
	*catalog = cb_answer_member(token, "token", "catalog", JSON_ARRAY, what);
	return *catalog ? id : NULL;
}

static int take_token(const char *what, struct cb_http_resp *resp,
		      struct cb_keystone_token *t)
{
	json_t *catalog = NULL;
	const char *project = scope_of(resp->body, what, &catalog);
	const char *expires = json_string_value(json_object_get(
		json_object_get(resp->body, "token"), "expires_at"));

	if (!resp->header) {
		cb_set_error(EPROTO, "%s: Keystone sent no X-Subject-Token", what);
		return -1;
	}
	if (!project)
		return -1;
	t->id = resp->header;
	resp->header = NULL;
	t->catalog = json_incref(catalog);
	t->project_id = strdup(project);
	t->expires_at = expires ? strdup(expires) : NULL;
	if (!t->project_id || (expires && !t->expires_at)) {
		cb_keystone_token_free(t);
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

int cb_keystone_authenticate(struct cb_http *h, const struct cb_os_config *c,
			     struct cb_keystone_token *t)
{
	struct cb_http_req req = { .method = "POST", .want_header = "X-Subject-Token" };
	struct cb_http_resp resp = { 0 };
	char *url = cb_keystone_tokens_url(c->auth_url), *what = describe(c);
	json_t *body = cb_keystone_auth_body(c);
	int ret = -1;

	memset(t, 0, sizeof *t);
	if (!url || !what || !body) {
		cb_set_error(ENOMEM, "out of memory");
		goto out;
	}
	req.what = what;
	req.url = url;
	req.body = body;
	if (cb_http_do(h, &req, &resp) == 0)
		ret = take_token(what, &resp, t);
out:
	cb_http_resp_free(&resp);
	json_decref(body);
	free(what);
	free(url);
	return ret;
}
