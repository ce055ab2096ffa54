/* Checks of Cinder's and Keystone's answers: see answer.h. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "answer.h"
#include "lib/error.h"

#define ID_MAX 64

static const char *kind_of(json_type type)
{
	switch (type) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

const char *cb_json_kind(const json_t *j)
{
	return j ? kind_of(json_typeof(j)) : "empty";
}

/* What a member was expected to be. */
static const char *type_name(json_type type)
{
	return type == JSON_TRUE || type == JSON_FALSE ? "a boolean" : kind_of(type);
}

static bool has_type(const json_t *j, json_type type)
{
	switch (type) {
	case JSON_INTEGER:
	case JSON_REAL: return json_is_number(j);
	case JSON_TRUE:
	case JSON_FALSE: return json_is_boolean(j);
	default: return json_typeof(j) == type;
	}
}

static bool is_object(const json_t *obj, const char *at, const char *what)
{
	if (json_is_object(obj))
		return true;
	if (at)
		cb_set_error(EPROTO, "%s: \"%s\" in the answer is %s, not an object",
			     what, at, cb_json_kind(obj));
	else
		cb_set_error(EPROTO, "%s: the answer is %s, not a JSON object", what,
			     cb_json_kind(obj));
	return false;
}

static void missing(const char *at, const char *key, const char *what)
{
	if (at)
		cb_set_error(EPROTO, "%s: \"%s\" in the answer has no \"%s\"", what, at, key);
	else
		cb_set_error(EPROTO, "%s: the answer has no \"%s\"", what, key);
}

static json_t *typed(json_t *member, const char *at, const char *key,
		     json_type type, const char *what)
{
	if (has_type(member, type))
		return member;
	cb_set_error(EPROTO, "%s: \"%s%s%s\" in the answer is %s, not %s", what,
		     at ? at : "", at ? "." : "", key, cb_json_kind(member),
		     type_name(type));
	return NULL;
}

json_t *cb_answer_member(const json_t *obj, const char *at, const char *key,
			 json_type type, const char *what)
{
	json_t *member;

	if (!is_object(obj, at, what))
		return NULL;
	member = json_object_get(obj, key);
	if (!member) {
		missing(at, key, what);
		return NULL;
	}
	return typed(member, at, key, type, what);
}

json_t *cb_answer_optional(const json_t *obj, const char *at, const char *key,
			   json_type type, const char *what, bool *bad)
{
	json_t *member;

	*bad = false;
	if (!is_object(obj, at, what)) {
		*bad = true;
		return NULL;
	}
	member = json_object_get(obj, key);
	if (!member || json_is_null(member))
		return NULL;
	member = typed(member, at, key, type, what);
	*bad = !member;
	return member;
}

bool cb_is_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
			return false;
	return n > 0 && n <= ID_MAX;
}

const char *cb_answer_id(const json_t *obj, const char *at, const char *key,
			 const char *what)
{
	const char *id = json_string_value(cb_answer_member(obj, at, key, JSON_STRING, what));

	if (!id)
		return NULL;
	if (cb_is_id(id))
		return id;
	/* Not quoted back: it may hold anything, terminal escapes too. */
	cb_set_error(EPROTO, "%s: \"%s%s%s\" in the answer is not an ID (1 to %d "
		     "letters, digits, '-' or '_')", what, at ? at : "", at ? "." : "",
		     key, ID_MAX);
	return NULL;
}
