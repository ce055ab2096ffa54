/* Microversion parsing and discovery: see microversion.h. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "microversion.h"

static int parse_number(const char **p, int *out)
{
	long v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		if (v > INT_MAX)
			return -1;
		(*p)++;
	}
	*out = (int)v;
	return 0;
}

int cb_microversion_parse(const char *s, struct cb_microversion *mv)
{
	const char *p = s;

	if (!s || parse_number(&p, &mv->major) < 0 || *p++ != '.' ||
	    parse_number(&p, &mv->minor) < 0 || *p) {
		cb_set_error(EINVAL, "invalid microversion \"%s\" (expected X.Y)",
			     s ? s : "");
		return -1;
	}
	return 0;
}

int cb_microversion_cmp(struct cb_microversion a, struct cb_microversion b)
{
	if (a.major != b.major)
		return a.major < b.major ? -1 : 1;
	if (a.minor != b.minor)
		return a.minor < b.minor ? -1 : 1;
	return 0;
}

/* Entries are {"id": "v3.0", "version": "3.70", "min_version": "3.0"}.
 * 1 for an entry of another major version; -1 with the error set for
 * one of ours whose "version" makes no sense. */
static int entry_max(const json_t *entry, int major, struct cb_microversion *max)
{
	const char *id = json_string_value(json_object_get(entry, "id"));
	const json_t *v = json_object_get(entry, "version");
	const char *version = json_string_value(v);
	char *end;

	if (!id || id[0] != 'v' || strtol(id + 1, &end, 10) != major || end == id + 1)
		return 1;
	if (!v || json_is_null(v) || (version && !*version)) {
		*max = CB_MV(major, 0);
		return 0;
	}
	if (version && cb_microversion_parse(version, max) == 0 && max->major == major)
		return 0;
	cb_set_error(EPROTO, "the version document's entry %s has a \"version\" that is "
		     "not %d.Y", id, major);
	return -1;
}

int cb_microversion_max_from_doc(const json_t *doc, int major,
				 struct cb_microversion *max)
{
	const json_t *versions = json_object_get(doc, "versions");
	const json_t *entry;
	size_t i;
	int ret;

	if (json_is_object(json_object_get(doc, "version")) &&
	    (ret = entry_max(json_object_get(doc, "version"), major, max)) <= 0)
		return ret;
	json_array_foreach(versions, i, entry)
		if ((ret = entry_max(entry, major, max)) <= 0)
			return ret;
	if (!json_is_array(versions) && !json_is_object(json_object_get(doc, "version"))) {
		cb_set_error(EPROTO, "the answer is not a version document (no \"versions\" "
			     "list, no \"version\" object)");
		return -1;
	}
	cb_set_error(ENOENT, "the server's version document lists no API v%d", major);
	return -1;
}
