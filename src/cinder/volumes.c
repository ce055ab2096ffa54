/* Volumes: get, find, create, delete, wait.  See cinder.h. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "internal.h"
#include "lib/error.h"

/* Between status polls: quick at first (a Ceph volume is ready in about
 * a second), then slower. */
#define POLL_FIRST_MS 250
#define POLL_MAX_MS 2000

/* What callers rely on: the ID and the status, and the IDs of the
 * attachments, which end up in paths and in the names of local files.
 * `at` is where vol is in the answer, for messages. */
static int check_volume(const json_t *vol, const char *at, const char *what)
{
	char where[64];
	json_t *atts, *att;
	size_t i;
	bool bad;

	if (!cb_answer_id(vol, at, "id", what) ||
	    !cb_answer_member(vol, at, "status", JSON_STRING, what))
		return -1;
	atts = cb_answer_optional(vol, at, "attachments", JSON_ARRAY, what, &bad);
	if (bad)
		return -1;
	json_array_foreach(atts, i, att) {
		snprintf(where, sizeof where, "%s.attachments[%zu]", at, i);
		if (!cb_answer_id(att, where, "attachment_id", what))
			return -1;
	}
	return 0;
}

/* answer["volume"], checked, as a new reference. */
static json_t *volume_of(const json_t *answer, const char *what)
{
	json_t *vol = cb_answer_member(answer, NULL, "volume", JSON_OBJECT, what);

	return vol && check_volume(vol, "volume", what) == 0 ? json_incref(vol) : NULL;
}

json_t *cb_cinder_volume_get(struct cb_cinder *c, const char *volume_id)
{
	char *path = cb_cinder_path("/volumes/%s", volume_id);
	char what[128];
	json_t *answer, *volume = NULL;

	if (!path)
		return NULL;
	snprintf(what, sizeof what, "get volume %s", volume_id);
	if (cb_cinder_call(c, "GET", path, NULL, what, &answer) == 0)
		volume = volume_of(answer, what);
	json_decref(answer);
	free(path);
	return volume;
}

/* 8-4-4-4-12 hex digits: names rarely look like that, so only such keys
 * are tried as IDs first. */
static bool looks_like_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == '\0';
}

/* The server filters by name, but one that ignores the filter would
 * list every volume: the match is checked here again. */
static json_t *exact_matches(const json_t *volumes, const char *name, const char *what)
{
	json_t *matches = json_array(), *v;
	char at[48];
	size_t i;

	if (!matches) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	json_array_foreach(volumes, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));

		if (!n || strcmp(n, name) != 0)
			continue;
		snprintf(at, sizeof at, "volumes[%zu]", i);
		if (check_volume(v, at, what) < 0)
			goto fail;
		if (json_array_append(matches, v) < 0) {
			cb_set_error(ENOMEM, "out of memory");
			goto fail;
		}
	}
	return matches;
fail:
	json_decref(matches);
	return NULL;
}

static void not_unique(const json_t *matches, const char *name)
{
	char ids[256];
	size_t i, n = 0;
	json_t *v;

	ids[0] = '\0';
	json_array_foreach(matches, i, v)
		if (n < sizeof ids)
			n += snprintf(ids + n, sizeof ids - n, "%s%s", i ? ", " : "",
				      json_string_value(json_object_get(v, "id")));
	cb_set_error(ENOTUNIQ, "%zu volumes are named \"%s\" (%s): give the ID",
		     json_array_size(matches), name, ids);
}

static json_t *find_by_name(struct cb_cinder *c, const char *name)
{
	char *path = cb_cinder_path("/volumes/detail?name=%s", name);
	json_t *answer = NULL, *volumes, *matches = NULL, *volume = NULL;
	char what[160];

	if (!path)
		return NULL;
	snprintf(what, sizeof what, "find volume \"%s\"", name);
	if (cb_cinder_call(c, "GET", path, NULL, what, &answer) < 0)
		goto out;
	volumes = cb_answer_member(answer, NULL, "volumes", JSON_ARRAY, what);
	if (!volumes || !(matches = exact_matches(volumes, name, what)))
		goto out;
	if (json_array_size(matches) == 1)
		volume = json_incref(json_array_get(matches, 0));
	else if (json_array_size(matches) > 1)
		not_unique(matches, name);
	else
		cb_set_error(ENOENT, "no volume has the ID or name \"%s\" in project %s",
			     name, c->project_id);
out:
	json_decref(matches);
	json_decref(answer);
	free(path);
	return volume;
}

json_t *cb_cinder_volume_find(struct cb_cinder *c, const char *id_or_name)
{
	json_t *volume;

	if (looks_like_uuid(id_or_name)) {
		volume = cb_cinder_volume_get(c, id_or_name);
		if (volume || cb_get_errno() != ENOENT)
			return volume;
	}
	return find_by_name(c, id_or_name);
}

json_t *cb_cinder_volume_create(struct cb_cinder *c, const struct cb_volume_spec *spec)
{
	json_t *body = json_pack("{s:{s:I, s:s*, s:s*, s:s*}}", "volume",
				 "size", (json_int_t)spec->size_gib, "name", spec->name,
				 "volume_type", spec->volume_type,
				 "availability_zone", spec->availability_zone);
	json_t *answer = NULL, *volume = NULL;
	const char *what = "create volume";

	if (!body) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	if (cb_cinder_call(c, "POST", "/volumes", body, what, &answer) == 0)
		volume = volume_of(answer, what);
	json_decref(answer);
	json_decref(body);
	return volume;
}

int cb_cinder_volume_delete(struct cb_cinder *c, const char *volume_id)
{
	char *path = cb_cinder_path("/volumes/%s", volume_id);
	char what[128];
	int ret;

	if (!path)
		return -1;
	snprintf(what, sizeof what, "delete volume %s", volume_id);
	ret = cb_cinder_call(c, "DELETE", path, NULL, what, NULL);
	free(path);
	return ret;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Sleeps before the next poll; false once the deadline has passed. */
static bool poll_again(long long deadline, unsigned int *delay)
{
	long long left = deadline - now_ms();

	if (left <= 0)
		return false;
	sleep_ms(left < *delay ? (unsigned int)left : *delay);
	if (*delay < POLL_MAX_MS)
		*delay *= 2;
	return true;
}

static const char *status_of(const json_t *volume)
{
	const char *s = json_string_value(json_object_get(volume, "status"));

	return s ? s : "(none)";
}

json_t *cb_cinder_volume_wait(struct cb_cinder *c, const char *volume_id,
			      const char *status, unsigned int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned int delay = POLL_FIRST_MS;
	json_t *volume;

	for (;;) {
		volume = cb_cinder_volume_get(c, volume_id);
		if (!volume || strcmp(status_of(volume), status) == 0)
			return volume;
		if (strncmp(status_of(volume), "error", 5) == 0) {
			cb_set_error(EIO, "volume %s went to status %s while waiting "
				     "for %s", volume_id, status_of(volume), status);
			break;
		}
		if (!poll_again(deadline, &delay)) {
			cb_set_error(ETIMEDOUT, "volume %s is still %s after %u ms of "
				     "waiting for %s", volume_id, status_of(volume),
				     timeout_ms, status);
			break;
		}
		json_decref(volume);
	}
	json_decref(volume);
	return NULL;
}

int cb_cinder_volume_wait_deleted(struct cb_cinder *c, const char *volume_id,
				  unsigned int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned int delay = POLL_FIRST_MS;
	json_t *volume;

	for (;;) {
		volume = cb_cinder_volume_get(c, volume_id);
		if (!volume)
			return cb_get_errno() == ENOENT ? 0 : -1;
		if (strcmp(status_of(volume), "error_deleting") == 0) {
			cb_set_error(EIO, "volume %s failed to delete (error_deleting)",
				     volume_id);
			break;
		}
		if (!poll_again(deadline, &delay)) {
			cb_set_error(ETIMEDOUT, "volume %s is still %s after %u ms of "
				     "waiting for its deletion", volume_id,
				     status_of(volume), timeout_ms);
			break;
		}
		json_decref(volume);
	}
	json_decref(volume);
	return -1;
}
