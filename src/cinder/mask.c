/* Secret masking: see mask.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mask.h"

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Suffix matching also catches the prefixed forms Cinder and Keystone
 * use (auth_password, discovery_auth_password, application_credential_
 * secret, X-Auth-Token), which a list of exact names would miss. */
bool cb_mask_is_secret_key(const char *key)
{
	static const char *const suffixes[] = {
		"password", "secret", "keyring", "token",
	};

	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (ends_with_ci(key, suffixes[i]))
			return true;
	return false;
}

static void mask_value(json_t *obj, const char *key, json_t *value, bool in_token);

/* in_token: we are directly inside a "token" object, where "id" is the
 * token itself ({"identity": {"token": {"id": ...}}}). */
static void mask_tree(json_t *node, bool in_token)
{
	const char *key;
	json_t *value;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, value)
			mask_tree(value, false);
		return;
	}
	json_object_foreach(node, key, value)
		mask_value(node, key, value, in_token);
}

static void mask_value(json_t *obj, const char *key, json_t *value, bool in_token)
{
	bool secret = cb_mask_is_secret_key(key) || (in_token && strcmp(key, "id") == 0);

	/* A secret-named container is walked, not blanked: Keystone's
	 * answer is {"token": {catalog...}} and the catalog is what a
	 * debug log is read for; its secrets are masked by name inside. */
	if (json_is_object(value) || json_is_array(value)) {
		mask_tree(value, json_is_object(value) && strcasecmp(key, "token") == 0);
		return;
	}
	if (secret && !json_is_null(value))
		json_object_set_new(obj, key, json_string(CB_MASK));
}

void cb_mask_json(json_t *root)
{
	if (json_is_object(root) || json_is_array(root))
		mask_tree(root, false);
}

char *cb_mask_dump(const json_t *root)
{
	json_t *copy = json_deep_copy(root);
	char *text;

	if (!copy)
		return NULL;
	cb_mask_json(copy);
	text = json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(copy);
	return text;
}

char *cb_mask_body(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	char *text;

	if (!root)
		return strndup(body, len);
	text = cb_mask_dump(root);
	json_decref(root);
	return text;
}

char *cb_mask_header(const char *line)
{
	const char *colon = strchr(line, ':');
	char *name, *out;
	bool secret;

	if (!colon)
		return strdup(line);
	name = strndup(line, colon - line);
	if (!name)
		return NULL;
	secret = cb_mask_is_secret_key(name);
	free(name);
	if (!secret)
		return strdup(line);
	if (asprintf(&out, "%.*s: " CB_MASK, (int)(colon - line), line) < 0)
		return NULL;
	return out;
}
