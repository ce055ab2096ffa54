/* Growing an attached volume's device after Cinder extended the volume.
 *
 * Only the serving process holds the backend and the device, so it does
 * the growing (on SIGUSR1: cli_serve_until_stopped); here the size Cinder
 * gives is checked, the process told, and the device watched until it has
 * that size.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <time.h>

#include "internal.h"
#include "lib/error.h"

#define GROW_TIMEOUT_S 30

/* Cinder sizes volumes in GiB. */
static int cinder_size(struct cb_cinder *c, const char *volume, char *id, size_t idlen,
		       uint64_t *size)
{
	json_t *vol = cb_cinder_volume_find(c, volume);
	json_t *gib = json_object_get(vol, "size");
	int ret = -1;

	if (!vol)
		cb_set_error(cb_get_errno(), "volume %s: %s", volume, cb_get_error());
	else if (!json_is_integer(gib) || json_integer_value(gib) <= 0 ||
		 json_integer_value(gib) > (json_int_t)(UINT64_MAX >> 30))
		cb_set_error(EPROTO, "volume %s: \"volume.size\" in Cinder's answer is not a "
			     "positive whole number of GiB", volume);
	else if (field_set(id, idlen, json_string_value(json_object_get(vol, "id")),
			   "volume id") == 0)
		ret = 0;
	if (ret == 0)
		*size = (uint64_t)json_integer_value(gib) << 30;
	json_decref(vol);
	return ret;
}

static int wait_grown(const struct cb_attachment *a, uint64_t want, uint64_t *size)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };

	for (int i = 0; i < GROW_TIMEOUT_S * 10; i++) {
		if (device_size(a, size) == -1)
			return -1;
		if (*size >= want)
			return 0;
		nanosleep(&tick, NULL);
	}
	cb_set_error(ETIMEDOUT, "%s is still %" PRIu64 " bytes %d s after its serving process "
		     "was told to grow it to %" PRIu64 " (see syslog: did the volume grow in "
		     "its backend?)", a->device, *size, GROW_TIMEOUT_S, want);
	return -1;
}

static int grow(const struct cb_attachment *a, uint64_t want, uint64_t *size)
{
	if (!serving_alive(a)) {
		cb_set_error(ESRCH, "the serving process of volume %s is gone: reattach it first",
			     a->volume_id);
		return -1;
	}
	if (device_size(a, size) == -1)
		return -1;
	if (want < *size) {
		cb_set_error(EINVAL, "Cinder gives volume %s %" PRIu64 " bytes, fewer than its "
			     "device %s has (%" PRIu64 "): shrinking is refused", a->volume_id,
			     want, a->device, *size);
		return -1;
	}
	if (want == *size)
		return 0;
	if (kill(a->pid, SIGUSR1) == -1) {
		cb_set_error_errno(errno, "cannot signal the serving process %ld", (long)a->pid);
		return -1;
	}
	return wait_grown(a, want, size);
}

int cb_engine_resize(struct cb_engine *e, const struct cb_os_config *cfg, const char *volume,
		     uint64_t *size)
{
	struct cb_cinder *c = engine_cinder_open(e, cfg);
	struct cb_attachment a = { 0 };
	char id[64];
	uint64_t want;
	int ret = -1;

	if (!c || cinder_size(c, volume, id, sizeof id, &want) == -1)
		goto out;
	if (state_load(e, id, &a) == -1) {
		if (cb_get_errno() == ENOENT)
			cb_set_error(ENOENT, "volume %s is not attached here", volume);
		goto out;
	}
	ret = grow(&a, want, size);
	if (ret == -1)
		cb_set_error(cb_get_errno(), "cannot resize volume %s: %s", volume,
			     cb_get_error());
out:
	cb_attachment_clear(&a);
	cb_cinder_close(c);
	return ret;
}
