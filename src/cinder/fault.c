/* Fault text extraction: see fault.h. */
#include <config.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fault.h"
#include "mask.h"

/* Enough for any real fault message; keeps an HTML page from flooding
 * the error buffer. */
#define FAULT_MAX 400

static char *fault_from_member(const char *name, const json_t *value)
{
	const char *msg;
	char *out;

	if (json_is_string(value) && strcmp(name, "error") == 0)
		return strdup(json_string_value(value));
	msg = json_string_value(json_object_get(value, "message"));
	if (!msg)
		return NULL;
	/* Cinder's fault names (itemNotFound, overLimit) say which kind of
	 * error it is; Keystone's "error" says nothing. */
	if (strcmp(name, "error") == 0)
		return strdup(msg);
	if (asprintf(&out, "%s: %s", name, msg) < 0)
		return NULL;
	return out;
}

static char *fault_from_json(const json_t *root)
{
	const char *key;
	json_t *value;
	char *text;

	if (json_is_string(json_object_get(root, "message")))
		return strdup(json_string_value(json_object_get(root, "message")));
	json_object_foreach((json_t *)root, key, value) {
		text = fault_from_member(key, value);
		if (text)
			return text;
	}
	/* Unknown shape: show it all, minus secrets. */
	return cb_mask_dump(root);
}

/* Drop tags, collapse runs of whitespace into one space, trim. */
static char *fault_from_text(const char *body, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	bool in_tag = false, space = true;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = body[i];

		if (ch == '<')
			in_tag = true;
		if (in_tag || isspace((unsigned char)ch)) {
			if (ch == '>')
				in_tag = false;
			if (!space)
				*o++ = ' ';
			space = true;
			continue;
		}
		*o++ = ch;
		space = false;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

static char *cut(char *text)
{
	if (text && strlen(text) > FAULT_MAX)
		strcpy(text + FAULT_MAX - 3, "...");
	return text;
}

char *cb_fault_text(const char *body, size_t len)
{
	json_t *root;
	char *text;

	if (!body || !len)
		return NULL;
	root = json_loadb(body, len, 0, NULL);
	if (!root)
		return cut(fault_from_text(body, len));
	text = fault_from_json(root);
	json_decref(root);
	return cut(text);
}
