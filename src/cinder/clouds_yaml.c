/* clouds.yaml search and parsing: see clouds_yaml.h. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "clouds_yaml.h"
#include "lib/error.h"
#include "lib/log.h"
#include "mask.h"

/* Far deeper than any clouds.yaml; stops unbounded recursion. */
#define YAML_MAX_DEPTH 64

struct yaml_reader {
	yaml_parser_t parser;
	const char *name;	/* for messages */
	json_t *anchors;	/* anchor name -> finished node */
};

static json_t *parse_node(struct yaml_reader *y, const yaml_event_t *ev, int depth);

static int next_event(struct yaml_reader *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	cb_set_error(EINVAL, "%s: line %zu column %zu: %s", y->name,
		     y->parser.problem_mark.line + 1,
		     y->parser.problem_mark.column + 1,
		     y->parser.problem ? y->parser.problem : "YAML syntax error");
	return -1;
}

static json_t *node_error(struct yaml_reader *y, const yaml_event_t *ev,
			  const char *what)
{
	cb_set_error(EINVAL, "%s: line %zu column %zu: %s", y->name,
		     ev->start_mark.line + 1, ev->start_mark.column + 1, what);
	return NULL;
}

static json_t *nomem(void)
{
	cb_set_error(ENOMEM, "out of memory");
	return NULL;
}

static bool is_word(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcasecmp(s, *words) == 0)
			return true;
	return false;
}

static bool is_plain(const yaml_event_t *ev)
{
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
}

static json_t *scalar_value(const yaml_event_t *ev)
{
	static const char *const trues[] = { "true", "yes", "on", NULL };
	static const char *const falses[] = { "false", "no", "off", NULL };
	static const char *const nulls[] = { "null", "~", "", NULL };
	const char *s = (const char *)ev->data.scalar.value;

	/* Quoted or tagged scalars are strings whatever they spell. */
	if (is_plain(ev)) {
		if (is_word(s, trues))
			return json_true();
		if (is_word(s, falses))
			return json_false();
		if (is_word(s, nulls))
			return json_null();
	}
	return json_stringn(s, ev->data.scalar.length);
}

/* Reads one event; *node is the node it starts, or NULL at `end`. */
static int parse_item(struct yaml_reader *y, yaml_event_type_t end, int depth,
		      json_t **node)
{
	yaml_event_t ev;

	if (next_event(y, &ev) < 0)
		return -1;
	*node = NULL;
	if (ev.type != end) {
		*node = parse_node(y, &ev, depth);
		if (!*node) {
			yaml_event_delete(&ev);
			return -1;
		}
	}
	yaml_event_delete(&ev);
	return 0;
}

static json_t *parse_sequence(struct yaml_reader *y, int depth)
{
	json_t *arr = json_array(), *item;

	if (!arr)
		return nomem();
	for (;;) {
		if (parse_item(y, YAML_SEQUENCE_END_EVENT, depth, &item) < 0)
			break;
		if (!item)
			return arr;
		if (json_array_append_new(arr, item) < 0) {
			nomem();
			break;
		}
	}
	json_decref(arr);
	return NULL;
}

/* "<<: *base" or "<<: [*a, *b]": keys not in the mapping itself come
 * from the merged mappings, earlier ones first. */
static int add_merge(json_t *merge, const json_t *value)
{
	const json_t *item;
	size_t i;

	if (json_is_object(value))
		return json_object_update_missing(merge, (json_t *)value);
	if (!json_is_array(value))
		return -1;
	json_array_foreach(value, i, item)
		if (!json_is_object(item) ||
		    json_object_update_missing(merge, (json_t *)item) < 0)
			return -1;
	return 0;
}

/* Reads a key event; *key is NULL at the end of the mapping. */
static int parse_key(struct yaml_reader *y, char **key, bool *merge_key)
{
	yaml_event_t ev;
	int ret = 0;

	if (next_event(y, &ev) < 0)
		return -1;
	*key = NULL;
	if (ev.type == YAML_SCALAR_EVENT) {
		*merge_key = is_plain(&ev) &&
			     strcmp((const char *)ev.data.scalar.value, "<<") == 0;
		*key = strdup((const char *)ev.data.scalar.value);
		if (!*key) {
			nomem();
			ret = -1;
		}
	} else if (ev.type != YAML_MAPPING_END_EVENT) {
		node_error(y, &ev, "mapping keys must be strings");
		ret = -1;
	}
	yaml_event_delete(&ev);
	return ret;
}

static int parse_pair(struct yaml_reader *y, int depth, json_t *map,
		      json_t *merge, bool *done)
{
	json_t *value;
	bool merge_key;
	char *key;
	int ret;

	if (parse_key(y, &key, &merge_key) < 0)
		return -1;
	*done = !key;
	if (!key)
		return 0;
	if (parse_item(y, YAML_NO_EVENT, depth, &value) < 0) {
		free(key);
		return -1;
	}
	if (merge_key) {
		ret = add_merge(merge, value);
		json_decref(value);
		if (ret < 0)
			cb_set_error(EINVAL, "%s: \"<<\" must merge mappings", y->name);
	} else {
		ret = json_object_set_new(map, key, value);
		if (ret < 0)
			nomem();
	}
	free(key);
	return ret;
}

static json_t *parse_mapping(struct yaml_reader *y, int depth)
{
	json_t *map = json_object(), *merge = json_object();
	bool done = false;

	if (!map || !merge) {
		nomem();
		goto fail;
	}
	while (!done)
		if (parse_pair(y, depth, map, merge, &done) < 0)
			goto fail;
	if (json_object_update_missing(map, merge) < 0) {
		nomem();
		goto fail;
	}
	json_decref(merge);
	return map;
fail:
	json_decref(map);
	json_decref(merge);
	return NULL;
}

/* Anchors are recorded once their node is complete, so a node cannot
 * alias itself: jansson trees must not have cycles. */
static json_t *remember(struct yaml_reader *y, const yaml_char_t *anchor, json_t *node)
{
	if (node && anchor &&
	    json_object_set(y->anchors, (const char *)anchor, node) < 0) {
		json_decref(node);
		return nomem();
	}
	return node;
}

static json_t *parse_node(struct yaml_reader *y, const yaml_event_t *ev, int depth)
{
	json_t *node;

	if (depth > YAML_MAX_DEPTH)
		return node_error(y, ev, "nested too deeply");
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		node = scalar_value(ev);
		if (!node)
			return node_error(y, ev, "invalid scalar");
		return remember(y, ev->data.scalar.anchor, node);
	case YAML_SEQUENCE_START_EVENT:
		node = parse_sequence(y, depth + 1);
		return remember(y, ev->data.sequence_start.anchor, node);
	case YAML_MAPPING_START_EVENT:
		node = parse_mapping(y, depth + 1);
		return remember(y, ev->data.mapping_start.anchor, node);
	case YAML_ALIAS_EVENT:
		node = json_object_get(y->anchors, (const char *)ev->data.alias.anchor);
		if (!node)
			return node_error(y, ev, "alias of an unknown anchor");
		return json_incref(node);
	default:
		return node_error(y, ev, "unexpected YAML event");
	}
}

/* STREAM-START, then DOCUMENT-START and a node, or STREAM-END for an
 * empty file (which holds no clouds, like an empty mapping). */
static json_t *read_document(struct yaml_reader *y)
{
	yaml_event_t ev;
	json_t *root = NULL;

	if (next_event(y, &ev) < 0)
		return NULL;
	yaml_event_delete(&ev);
	if (next_event(y, &ev) < 0)
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT)
		root = json_object();
	else if (parse_item(y, YAML_NO_EVENT, 0, &root) < 0)
		root = NULL;
	yaml_event_delete(&ev);
	return root;
}

static json_t *read_yaml(struct yaml_reader *y)
{
	json_t *root;

	y->anchors = json_object();
	if (!y->anchors) {
		yaml_parser_delete(&y->parser);
		return nomem();
	}
	root = read_document(y);
	json_decref(y->anchors);
	yaml_parser_delete(&y->parser);
	return root;
}

json_t *cb_yaml_load_string(const char *text, const char *name)
{
	struct yaml_reader y = { .name = name };

	if (!yaml_parser_initialize(&y.parser))
		return nomem();
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text,
				     strlen(text));
	return read_yaml(&y);
}

json_t *cb_yaml_load_file(const char *path)
{
	struct yaml_reader y = { .name = path };
	FILE *f = fopen(path, "re");
	json_t *root;

	if (!f) {
		cb_set_error_errno(errno, "cannot open %s", path);
		return NULL;
	}
	if (!yaml_parser_initialize(&y.parser)) {
		fclose(f);
		return nomem();
	}
	yaml_parser_set_input_file(&y.parser, f);
	root = read_yaml(&y);
	fclose(f);
	return root;
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
