/* Endpoint lookup: see catalog.h. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "lib/error.h"

const char *const cb_volume_service_types[] = {
	"block-storage", "volumev3", "volume", NULL,
};

static bool str_eq(const json_t *value, const char *s)
{
	const char *v = json_string_value(value);

	return v && strcmp(v, s) == 0;
}

static const char *find_in_service(const json_t *service, const char *interface,
				   const char *region)
{
	const json_t *ep;
	size_t i;

	json_array_foreach(json_object_get(service, "endpoints"), i, ep) {
		if (!str_eq(json_object_get(ep, "interface"), interface))
			continue;
		if (region && !str_eq(json_object_get(ep, "region_id"), region) &&
		    !str_eq(json_object_get(ep, "region"), region))
			continue;
		if (json_string_value(json_object_get(ep, "url")))
			return json_string_value(json_object_get(ep, "url"));
	}
	return NULL;
}

static void list_types(const json_t *catalog, char *buf, size_t size)
{
	const json_t *service;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(catalog, i, service) {
		const char *type = json_string_value(json_object_get(service, "type"));

		if (type && n < size)
			n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", type);
	}
}

char *cb_catalog_endpoint(const json_t *catalog, const char *const *types,
			  const char *interface, const char *region)
{
	const json_t *service;
	const char *url;
	char have[256];
	size_t i;

	for (const char *const *t = types; *t; t++)
		json_array_foreach(catalog, i, service) {
			if (!str_eq(json_object_get(service, "type"), *t))
				continue;
			url = find_in_service(service, interface, region);
			if (url)
				return strdup(url);
		}
	list_types(catalog, have, sizeof have);
	cb_set_error(ENOENT, "the catalog has no %s endpoint of service type %s%s%s%s "
		     "(its service types: %s)", interface, types[0],
		     types[1] ? " or an alias" : "", region ? " in region " : "",
		     region ? region : "", have[0] ? have : "none");
	return NULL;
}

/* ---- endpoint URLs ---- */

/* Replaces every occurrence of pat in *s. */
static int replace_all(char **s, const char *pat, const char *with)
{
	char *at, *out;

	while ((at = strstr(*s, pat))) {
		if (asprintf(&out, "%.*s%s%s", (int)(at - *s), *s, with,
			     at + strlen(pat)) < 0)
			return -1;
		free(*s);
		*s = out;
	}
	return 0;
}

/* Keystone fills these in a token's catalog, but an endpoint given by
 * the user may still carry one. */
static char *fill_project(const char *url, const char *project_id)
{
	static const char *const templates[] = {
		"%(project_id)s", "$(project_id)s", "%(tenant_id)s", "$(tenant_id)s",
	};
	char *s = strdup(url);

	for (size_t i = 0; s && i < sizeof templates / sizeof templates[0]; i++) {
		if (!strstr(s, templates[i]))
			continue;
		if (!project_id) {
			cb_set_error(EINVAL, "endpoint %s needs a project ID", url);
			free(s);
			return NULL;
		}
		if (replace_all(&s, templates[i], project_id) < 0) {
			free(s);
			s = NULL;
		}
	}
	if (!s)
		cb_set_error(ENOMEM, "out of memory");
	return s;
}

/* "v3", "v2", "v3.0". */
static bool is_version(const char *seg, size_t len)
{
	size_t i = 1;

	if (len < 2 || seg[0] != 'v' || !isdigit((unsigned char)seg[1]))
		return false;
	while (i < len && isdigit((unsigned char)seg[i]))
		i++;
	if (i < len && seg[i] == '.') {
		if (++i == len)
			return false;
		while (i < len && isdigit((unsigned char)seg[i]))
			i++;
	}
	return i == len;
}

/* The "/vN" segment of the path, or NULL. */
static const char *find_version(const char *path, const char **after)
{
	while (path && *path == '/') {
		const char *end = strchr(path + 1, '/');
		size_t len = end ? (size_t)(end - path - 1) : strlen(path + 1);

		if (is_version(path + 1, len)) {
			*after = path + 1 + len;
			return path;
		}
		path = end;
	}
	return NULL;
}

static int split(const char *u, const char *project_id, char **root, char **base)
{
	const char *path = strchr(strstr(u, "://") + 3, '/');
	const char *after = "", *version = find_version(path, &after);
	size_t root_len = version ? (size_t)(version - u) : strlen(u);
	bool add_project = !*after && project_id;

	*root = strndup(u, root_len);
	if (!*root || asprintf(base, "%s/v3%s%s%s", *root, after, add_project ? "/" : "",
			       add_project ? project_id : "") < 0) {
		free(*root);
		*root = *base = NULL;
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

int cb_volume_endpoint_split(const char *url, const char *project_id,
			     char **root, char **base)
{
	char *u;
	size_t n;
	int ret;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		cb_set_error(EINVAL, "volume endpoint \"%s\" is not an http(s) URL", url);
		return -1;
	}
	u = fill_project(url, project_id);
	if (!u)
		return -1;
	n = strlen(u);
	while (n && u[n - 1] == '/')
		u[--n] = '\0';
	if (!strstr(u, "://") || !strstr(u, "://")[3]) {
		cb_set_error(EINVAL, "volume endpoint \"%s\" has no host", url);
		free(u);
		return -1;
	}
	ret = split(u, project_id, root, base);
	free(u);
	return ret;
}
