/* clouds.yaml search and merge: see clouds_yaml.h. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clouds_yaml.h"
#include "lib/error.h"
#include "lib/log.h"
#include "mask.h"
#include "yaml_json.h"

static json_t *nomem(void)
{
	cb_set_error(ENOMEM, "out of memory");
	return NULL;
}

/* openstacksdk reads all three; JSON is YAML as far as libyaml cares. */
static const char *const config_suffixes[] = { ".yaml", ".yml", ".json" };
#define N_SUFFIXES (sizeof config_suffixes / sizeof config_suffixes[0])
#define N_DIRS 5

static int add_dir(char **paths, size_t *n, const char *dir, const char *sub,
		   const char *basename)
{
	if (!dir)
		return 0;
	for (size_t i = 0; i < N_SUFFIXES; i++)
		if (asprintf(&paths[(*n)++], "%s%s/%s%s", dir, sub, basename,
			     config_suffixes[i]) < 0) {
			paths[--*n] = NULL;
			return -1;
		}
	return 0;
}

char **cb_clouds_candidates(const char *basename, const char *override,
			    const struct cb_clouds_env *env)
{
	char **paths = calloc(1 + N_DIRS * N_SUFFIXES + 1, sizeof *paths);
	size_t n = 0;

	if (!paths)
		goto nomem;
	if (override && *override && !(paths[n++] = strdup(override)))
		goto nomem;
	if (add_dir(paths, &n, env->cwd, "", basename) < 0 ||
	    add_dir(paths, &n, env->xdg_config_home, "/openstack", basename) < 0 ||
	    add_dir(paths, &n, env->home, "/.config/openstack", basename) < 0 ||
	    add_dir(paths, &n, "/etc/xdg", "/openstack", basename) < 0 ||
	    add_dir(paths, &n, "/etc", "/openstack", basename) < 0)
		goto nomem;
	return paths;
nomem:
	cb_clouds_candidates_free(paths);
	nomem();
	return NULL;
}

void cb_clouds_candidates_free(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
}

/* Loads the first candidate that exists.  None: *doc = NULL, success.
 * A file that exists but does not parse is an error, not skipped: the
 * user meant it. */
static int load_first(const char *basename, const char *override,
		      const struct cb_clouds_env *env, json_t **doc, char **path)
{
	char **paths = cb_clouds_candidates(basename, override, env);
	struct stat st;
	int ret = 0;

	*doc = NULL;
	*path = NULL;
	if (!paths)
		return -1;
	for (char **p = paths; *p; p++) {
		if (stat(*p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		*doc = cb_yaml_load_file(*p);
		if (!*doc || !(*path = strdup(*p))) {
			ret = -1;
			json_decref(*doc);
			*doc = NULL;
		}
		break;
	}
	cb_clouds_candidates_free(paths);
	return ret;
}

static int deep_merge(json_t *dst, const json_t *src)
{
	const char *key;
	json_t *value, *old;

	json_object_foreach((json_t *)src, key, value) {
		old = json_object_get(dst, key);
		if (json_is_object(old) && json_is_object(value)) {
			if (deep_merge(old, value) < 0)
				return -1;
		} else if (json_object_set_new(dst, key, json_deep_copy(value)) < 0) {
			return -1;
		}
	}
	return 0;
}

static json_t *cloud_in(const json_t *doc, const char *name)
{
	json_t *cloud = json_object_get(json_object_get(doc, "clouds"), name);

	return json_is_object(cloud) ? cloud : NULL;
}

static bool has_secret(const json_t *auth)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)auth, key, value)
		if (cb_mask_is_secret_key(key) && json_is_string(value))
			return true;
	return false;
}

/* openstacksdk does not check this, but a password in a file others can
 * read is worth a warning every time it is used. */
static void warn_if_exposed(const char *path, const json_t *doc, const char *name)
{
	struct stat st;

	if (!path || !has_secret(json_object_get(cloud_in(doc, name), "auth")))
		return;
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		cb_log(CB_LOG_WARNING, "%s holds secrets of cloud \"%s\" but group or "
		       "others can access it: chmod 600 it", path, name);
}

static json_t *merge_cloud(const json_t *clouds, const json_t *secure, const char *name)
{
	const json_t *base = cloud_in(clouds, name), *over = cloud_in(secure, name);
	json_t *cloud = base ? json_deep_copy(base) : json_object();

	if (!cloud || (over && deep_merge(cloud, over) < 0)) {
		json_decref(cloud);
		return nomem();
	}
	return cloud;
}

static void not_found(const char *name, const char *clouds_path)
{
	if (clouds_path)
		cb_set_error(ENOENT, "cloud \"%s\" is not defined in %s", name, clouds_path);
	else
		cb_set_error(ENOENT, "cloud \"%s\" requested but no clouds.yaml was "
			     "found (OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, "
			     "/etc/openstack/)", name);
}

json_t *cb_clouds_load(const char *name, const struct cb_clouds_env *env,
		       char **source)
{
	json_t *clouds = NULL, *secure = NULL, *cloud = NULL;
	char *clouds_path = NULL, *secure_path = NULL;

	*source = NULL;
	if (load_first("clouds", env->config_file, env, &clouds, &clouds_path) < 0 ||
	    load_first("secure", env->secure_file, env, &secure, &secure_path) < 0)
		goto out;
	if (!cloud_in(clouds, name) && !cloud_in(secure, name)) {
		not_found(name, clouds_path);
		goto out;
	}
	cloud = merge_cloud(clouds, secure, name);
	if (!cloud)
		goto out;
	warn_if_exposed(clouds_path, clouds, name);
	warn_if_exposed(secure_path, secure, name);
	*source = clouds_path;
	clouds_path = NULL;
out:
	json_decref(clouds);
	json_decref(secure);
	free(clouds_path);
	free(secure_path);
	return cloud;
}
