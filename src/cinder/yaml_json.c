/* YAML to a jansson tree: see yaml_json.h. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "lib/error.h"
#include "yaml_json.h"

/* Far deeper than any configuration file; stops unbounded recursion. */
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
