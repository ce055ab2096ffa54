/* Reattaching: a new serving process for the /dev/nbdN of an attachment
 * whose serving process died (killed, crashed, upgraded).
 *
 * The kernel keeps such a device for its dead-connection timeout, its
 * requests waiting; it takes new sockets only in place of dead ones.  So a
 * reattach checks, in order: the old process is gone (never two servers
 * on one device), the device still carries this attachment's identifier
 * (never another volume's data on it), then reopens the volume from the
 * connection_info Cinder gives again (the state never holds it: it may
 * hold a secret) and hands the device the new server's sockets.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/connection_info.h"
#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

/* Why a needs no reattach, or cannot have one: -1 with the error set
 * (EALREADY when its server runs). */
static int check_reattachable(const struct cb_attachment *a)
{
	if (serving_alive(a)) {
		cb_set_error(EALREADY, "volume %s is served by its process %ld: nothing to "
			     "reattach", a->volume_id, (long)a->pid);
		return -1;
	}
	if (!device_is_nbd(a)) {
		cb_set_error(ENOTSUP, "volume %s was exported as a FUSE file, whose mount "
			     "ended with its serving process: only /dev/nbdN can be reattached; "
			     "local-detach --force it, then attach it again", a->volume_id);
		return -1;
	}
	if (!device_attached(a) && device_claimed_by_other(a)) {
		cb_set_error(EINVAL, "%s now carries another attachment than volume %s's "
			     "(its backend identifier is not \"%s\"): refusing to serve the "
			     "volume on it; local-detach --force it, then attach it again",
			     a->device, a->volume_id, a->nbd_identifier);
		return -1;
	}
	if (!device_attached(a)) {
		cb_set_error(ENODEV, "%s no longer serves volume %s: its dead-connection "
			     "timeout (%u s) passed, or it was disconnected; local-detach "
			     "--force it, then attach it again", a->device, a->volume_id,
			     a->dead_conn_timeout);
		return -1;
	}
	return 0;
}

static json_t *fetch_connection_info(struct cb_cinder *c, const struct cb_attachment *a)
{
	json_t *raw, *ci;

	if (strcmp(a->flow, "legacy") == 0) {
		raw = cb_cinder_initialize_connection(c, a->volume_id, a->connector);
	} else {
		json_t *att = cb_cinder_attachment_get(c, a->attachment_id);

		raw = json_incref(json_object_get(att, "connection_info"));
		json_decref(att);
		if (att && !raw)
			cb_set_error(EPROTO, "attachment %s has no connection_info in Cinder",
				     a->attachment_id);
	}
	if (!raw)
		return NULL;
	ci = cb_connection_info_normalize(raw);
	json_decref(raw);
	return ci;
}

static int serve_again(struct cb_engine *e, struct cb_cinder *c, struct cb_attachment *a)
{
	struct cb_kernel_nbd_opts nbd = {
		.index = device_nbd_index(a), .reattach = true, .identifier = a->nbd_identifier,
		.io_timeout = a->io_timeout, .dead_conn_timeout = a->dead_conn_timeout,
	};
	struct serve_request r = {
		.backend_options = a->backend_options, .stop_grace = a->stop_grace,
		.read_only = strcmp(a->mode, "ro") == 0, .nbd = &nbd,
		.multipath = json_is_true(json_object_get(a->connector, "multipath")),
		.enforce_multipath = json_is_true(json_object_get(a->connector,
								  "enforce_multipath")),
	};
	char paths[PATH_MAX];
	json_t *ci = fetch_connection_info(c, a);
	int ret = -1;

	if (state_paths_path(e, a->volume_id, paths, sizeof paths) == 0)
		r.paths_file = paths;
	if (ci && cb_connection_info_backend(ci) && local_policy_check(e, ci) == 0) {
		r.connection_info = ci;
		ret = serving_start(e, &r, a);
	}
	json_decref(ci);
	if (ret == 0 && state_save(e, a) == -1)
		cb_log(CB_LOG_WARNING, "%s: the device is served again, by process %ld, "
		       "but the record of it is stale", cb_get_error(), (long)a->pid);
	return ret;
}

static int reattach_one(struct cb_engine *e, struct cb_cinder *c, struct cb_attachment *a)
{
	if (check_reattachable(a) == -1 || serve_again(e, c, a) == -1) {
		cb_set_error(cb_get_errno(), "cannot reattach volume %s: %s", a->volume_id,
			     cb_get_error());
		return -1;
	}
	cb_log(CB_LOG_INFO, "volume %s: %s served again by process %ld", a->volume_id,
	       a->device, (long)a->pid);
	return 0;
}

static int reattach_volume(struct cb_engine *e, struct cb_cinder *c, const char *volume)
{
	json_t *vol = cb_cinder_volume_find(c, volume);
	struct cb_attachment a;
	int ret;

	if (!vol) {
		cb_set_error(cb_get_errno(), "volume %s: %s", volume, cb_get_error());
		return -1;
	}
	ret = state_load(e, json_string_value(json_object_get(vol, "id")), &a);
	json_decref(vol);
	if (ret == -1) {
		if (cb_get_errno() == ENOENT)
			cb_set_error(ENOENT, "volume %s is not attached here", volume);
		return -1;
	}
	ret = reattach_one(e, c, &a);
	cb_attachment_clear(&a);
	return ret;
}

/* Every recorded attachment whose server is gone; the first failure is
 * the one reported. */
static int reattach_all(struct cb_engine *e, struct cb_cinder *c)
{
	struct saved_error first = { 0 };
	struct cb_attachment *atts;
	size_t n;

	if (state_list(e, &atts, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (serving_alive(&atts[i]))
			continue;
		if (reattach_one(e, c, &atts[i]) == -1) {
			cb_log(CB_LOG_ERROR, "%s", cb_get_error());
			if (!first.errnum)
				error_save(&first);
		}
	}
	for (size_t i = 0; i < n; i++)
		cb_attachment_clear(&atts[i]);
	free(atts);
	if (!first.errnum)
		return 0;
	error_restore(&first);
	return -1;
}

int cb_engine_reattach(struct cb_engine *e, const struct cb_os_config *cfg,
		       const struct cb_reattach_opts *o)
{
	struct cb_cinder *c = engine_cinder_open(e, cfg);
	int ret = -1;

	if (c)
		ret = o->all ? reattach_all(e, c) : reattach_volume(e, c, o->volume);
	cb_cinder_close(c);
	return ret;
}
