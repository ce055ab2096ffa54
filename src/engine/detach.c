/* Detaching a volume that cb_engine_attach attached.
 *
 * The local side goes first: only once the serving process has flushed
 * and let go of the device does Cinder hear that the volume is free.  A
 * refusal there (the device is mounted) changes nothing in Cinder.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

static const char *str(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* Stops the serving process of a. */
static int stop_local(const struct cb_attachment *a, const struct cb_detach_opts *o)
{
	if (!serving_alive(a)) {
		if (!o->force && device_is_nbd(a) && device_attached(a)) {
			cb_set_error(ESRCH, "the serving process %ld of volume %s is gone (killed "
				     "or crashed); %s waits for a new one for %u s: reattach it "
				     "(cinder-brick reattach), or detach with force "
				     "(local-detach --force), which fails its waiting I/O",
				     (long)a->pid, a->volume_id, a->device, a->dead_conn_timeout);
			return -1;
		}
		if (!o->force) {
			cb_set_error(ESRCH, "the serving process %ld of volume %s is gone (killed "
				     "or crashed), so %s is stale: detach with force "
				     "(local-detach --force) to clean up and detach",
				     (long)a->pid, a->volume_id, a->device);
			return -1;
		}
		serving_cleanup(a);
		return 0;
	}
	if (serving_stop(a) == 0)
		return 0;
	if (cb_get_errno() == ETIMEDOUT && o->force) {
		serving_kill(a);
		return 0;
	}
	cb_set_error(cb_get_errno(), "cannot detach volume %s: %s", a->volume_id,
		     cb_get_error());
	return -1;
}

/* Without local state: the only attachment.  The client has checked the
 * volume's "id" and its attachments' "attachment_id". */
static const char *pick_attachment(const json_t *vol)
{
	json_t *atts = json_object_get(vol, "attachments");
	const char *id = str(vol, "id");

	if (json_array_size(atts) == 1)
		return str(json_array_get(atts, 0), "attachment_id");
	if (json_array_size(atts) == 0)
		cb_set_error(ENOENT, "volume %s has no attachment in Cinder and none here: "
			     "nothing to detach", id);
	else
		cb_set_error(ENOTUNIQ, "volume %s has %zu attachments and no local state says "
			     "which is ours: name the attachment ID (see 'openstack volume "
			     "attachment list')", id, json_array_size(atts));
	return NULL;
}

static int detach_legacy(struct cb_cinder *c, const char *id, const char *att_id,
			 const json_t *connector)
{
	struct saved_error err;

	if (cb_cinder_volume_begin_detaching(c, id) == -1)
		return -1;
	if (cb_cinder_terminate_connection(c, id, connector) == 0 &&
	    cb_cinder_volume_detach(c, id, att_id[0] ? att_id : NULL) == 0)
		return 0;
	error_save(&err);
	if (cb_cinder_volume_roll_detaching(c, id) == -1)
		cb_log(CB_LOG_WARNING, "rollback: os-roll_detaching failed: %s", cb_get_error());
	error_restore(&err);
	return -1;
}

static int detach_cinder(struct cb_cinder *c, const char *volume_id,
			 const struct cb_attachment *a, const char *att_id)
{
	struct cb_connector_opts co = { 0 };
	json_t *connector;
	/* The way it was attached, unless the microversion asked for now
	 * predates the attachments API: the legacy actions end any attachment. */
	bool legacy = strcmp(a->flow, "legacy") == 0 ||
		cb_microversion_cmp(cb_cinder_microversion(c), CB_CINDER_MV_ATTACHMENTS) < 0;
	int ret;

	if (!legacy)
		return cb_cinder_attachment_delete(c, att_id);
	connector = json_incref(a->connector);
	if (!connector && !(connector = cb_connector_get(&co)))
		return -1;
	ret = detach_legacy(c, volume_id, att_id, connector);
	json_decref(connector);
	return ret;
}

/* State lost: a FUSE file may still be mounted in the volume's directory. */
static void cleanup_orphan(struct cb_engine *e, const char *volume_id)
{
	struct cb_attachment orphan = { .export_kind = "fuse" };

	if (state_disk_path(e, volume_id, orphan.fuse_file, sizeof orphan.fuse_file) == 0)
		serving_cleanup(&orphan);
}

static int detach(struct cb_engine *e, struct cb_cinder *c, const json_t *vol,
		  const struct cb_detach_opts *o)
{
	const char *id = str(vol, "id"), *att_id;
	struct cb_attachment a = { 0 };
	bool recorded = state_load(e, id, &a) == 0;
	int ret = -1;

	if (recorded && stop_local(&a, o) == -1)
		goto out;
	if (!recorded)
		cleanup_orphan(e, id);
	att_id = o->attachment_id ? o->attachment_id : a.attachment_id;
	if (!att_id[0] && !(att_id = pick_attachment(vol)))
		goto out_local_gone;
	if (detach_cinder(c, id, &a, att_id) == -1) {
		cb_set_error(cb_get_errno(), "volume %s: the local device is gone, but Cinder "
			     "did not end attachment %s: %s; run local-detach again once "
			     "Cinder can", id, att_id, cb_get_error());
		goto out_local_gone;
	}
	ret = 0;
out_local_gone:
	state_remove(e, id);
out:
	cb_attachment_clear(&a);
	return ret;
}

int cb_engine_detach(struct cb_engine *e, const struct cb_os_config *cfg,
		     const struct cb_detach_opts *o)
{
	struct cb_cinder *c = engine_cinder_open(e, cfg);
	json_t *vol = NULL;
	int ret = -1;

	if (c && !(vol = cb_cinder_volume_find(c, o->volume)))
		cb_set_error(cb_get_errno(), "volume %s: %s", o->volume, cb_get_error());
	if (vol)
		ret = detach(e, c, vol, o);
	json_decref(vol);
	cb_cinder_close(c);
	return ret;
}
