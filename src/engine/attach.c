/* Attaching a volume to this host.
 *
 * Microversion 3.44 and later: an attachment reserved without a connector,
 * given our connector, then os-complete.  Older: os-reserve,
 * os-initialize_connection, then os-attach with our host name.  Between
 * the two Cinder halves the volume is opened and served, so Cinder only
 * hears "attached" once the device exists.  Any failure undoes what was
 * done, in reverse, so the volume ends available and nothing is left
 * here.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "exports/kernel_nbd.h"
#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

/* What has been done so far: a failure undoes exactly that. */
struct attach {
	struct cb_engine *e;
	const struct cb_attach_opts *o;
	struct cb_cinder *c;
	struct cb_attachment *a;
	bool legacy;
	json_t *ci;
	bool reserved;		/* legacy: os-reserve done */
	bool connected;		/* legacy: os-initialize_connection done */
	bool have_dir;
	bool serving;
};

static const char *str(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static const char *mode_of(const struct cb_attach_opts *o)
{
	return o->mode ? o->mode : "rw";
}

/* Kernel NBD skips the FUSE and loop hops and can be reattached; FUSE and
 * loop are for kernels without nbd. */
static int choose_export(const struct cb_attach_opts *o, struct cb_attachment *a)
{
	char why[200];
	bool nbd = false;

	if (o->export_kind != CB_EXPORT_FUSE) {
		nbd = kernel_nbd_available(why, sizeof why);
		if (!nbd && o->export_kind == CB_EXPORT_NBD) {
			cb_set_error(ENOTSUP, "cannot export as kernel NBD: %s; load it, or "
				     "use the FUSE export (fuse, or auto)", why);
			return -1;
		}
		if (!nbd)
			cb_log(CB_LOG_DEBUG, "%s: exporting as a FUSE file and a loop device", why);
	}
	a->io_timeout = o->io_timeout ? o->io_timeout : CB_NBD_DEFAULT_IO_TIMEOUT;
	a->dead_conn_timeout = o->dead_conn_timeout ? o->dead_conn_timeout :
			       CB_NBD_DEFAULT_DEAD_CONN_TIMEOUT;
	a->stop_grace = o->stop_grace ? o->stop_grace : CB_EXPORT_DEFAULT_STOP_GRACE;
	return FIELD_SET(a->export_kind, nbd ? "nbd" : "fuse", "export");
}

/* Before Cinder is asked for anything. */
static int check_options(const struct cb_attach_opts *o)
{
	if (strcmp(mode_of(o), "rw") != 0 && strcmp(mode_of(o), "ro") != 0) {
		cb_set_error(EINVAL, "attach mode \"%s\" is not rw or ro", o->mode);
		return -1;
	}
	return cb_backend_options_check(o->backend_options);
}

static bool attachable(const json_t *vol, const char *status)
{
	return strcmp(status, "available") == 0 ||
	       (strcmp(status, "in-use") == 0 && json_is_true(json_object_get(vol, "multiattach")));
}

/* The client has checked that vol has an "id" and a "status" string. */
static int check_volume(struct attach *t, const json_t *vol)
{
	const char *status = str(vol, "status");
	struct cb_attachment here;

	if (FIELD_SET(t->a->volume_id, str(vol, "id"), "volume id") == -1)
		return -1;
	if (state_load(t->e, t->a->volume_id, &here) == 0) {
		cb_set_error(EEXIST, "volume %s is already attached here as %s: detach it first",
			     t->a->volume_id, here.device);
		cb_attachment_clear(&here);
		return -1;
	}
	if (attachable(vol, status))
		return 0;
	cb_set_error(EBUSY, "volume %s is %s, not available%s", t->a->volume_id, status,
		     strcmp(status, "in-use") == 0 ?
		     ": it is attached elsewhere and is not multiattach" : "");
	return -1;
}

static int find_volume(struct attach *t)
{
	json_t *vol = cb_cinder_volume_find(t->c, t->o->volume);
	int ret;

	if (!vol) {
		cb_set_error(cb_get_errno(), "volume %s: %s", t->o->volume, cb_get_error());
		return -1;
	}
	ret = check_volume(t, vol);
	json_decref(vol);
	return ret;
}

/* Cinder's answer is network input: normalised and checked before use. */
static int take_connection_info(struct attach *t, const json_t *raw)
{
	t->ci = cb_connection_info_normalize(raw);
	if (!t->ci || !cb_connection_info_backend(t->ci) || local_policy_check(t->e, t->ci) == -1)
		return -1;
	return FIELD_SET(t->a->backend, cb_connection_info_type(t->ci), "driver_volume_type");
}

/*
 * Two calls, as Nova makes them: creating the attachment without a connector
 * only reserves the volume and cannot fail half-way, so the attachment id is
 * known before cinder-volume is asked for the connection.  A single create
 * with the connector leaves a reserved attachment behind whose id the caller
 * never learns when that request fails (cinder-volume down, say).
 */
/* An NFS volume file may be raw or qcow2, which only "format" tells; the
 * answer to the attachment update may lack it, the attachment itself has
 * it (GET /attachments/{id}).  Without it the backend takes the file for
 * raw, so it is asked for rather than guessed. */
static int complete_nfs_format(struct attach *t)
{
	json_t *data = json_object_get(t->ci, "data"), *att, *ci;
	json_t *format;

	if (strcmp(cb_connection_info_type(t->ci), "nfs") != 0 ||
	    json_object_get(data, "format"))
		return 0;
	att = cb_cinder_attachment_get(t->c, t->a->attachment_id);
	if (!att)
		return -1;
	ci = cb_connection_info_normalize(json_object_get(att, "connection_info"));
	json_decref(att);
	if (!ci)
		return -1;
	format = json_object_get(json_object_get(ci, "data"), "format");
	if (json_is_string(format))
		json_object_set(data, "format", format);
	json_decref(ci);
	return 0;
}

static int connect_v3(struct attach *t)
{
	bool mode_ok = cb_microversion_cmp(cb_cinder_microversion(t->c),
					   CB_CINDER_MV_ATTACH_MODE) >= 0;
	json_t *att = cb_cinder_attachment_create(t->c, t->a->volume_id, NULL,
						  mode_ok ? mode_of(t->o) : NULL);
	int ret;

	if (!att)
		return -1;
	ret = FIELD_SET(t->a->attachment_id, str(att, "id"), "attachment id");
	json_decref(att);
	if (ret == -1)
		return -1;
	att = cb_cinder_attachment_update(t->c, t->a->attachment_id, t->a->connector);
	if (!att)
		return -1;
	ret = take_connection_info(t, json_object_get(att, "connection_info"));
	json_decref(att);
	return ret == 0 ? complete_nfs_format(t) : -1;
}

static int connect_legacy(struct attach *t)
{
	json_t *raw;
	int ret;

	if (cb_cinder_volume_reserve(t->c, t->a->volume_id) == -1)
		return -1;
	t->reserved = true;
	raw = cb_cinder_initialize_connection(t->c, t->a->volume_id, t->a->connector);
	if (!raw)
		return -1;
	t->connected = true;
	ret = take_connection_info(t, raw);
	json_decref(raw);
	return ret;
}

static bool read_only(const struct attach *t)
{
	const char *access = str(json_object_get(t->ci, "data"), "access_mode");

	return strcmp(mode_of(t->o), "ro") == 0 || (access && strcmp(access, "ro") == 0);
}

/* The legacy flow has no attachment id before os-attach. */
static int nbd_identify(struct attach *t)
{
	struct cb_attachment *a = t->a;

	return FIELD_SET(a->nbd_identifier, t->legacy ? a->volume_id : a->attachment_id,
			 "nbd identifier");
}

static int serve(struct attach *t)
{
	char dir[PATH_MAX], disk[PATH_MAX], paths[PATH_MAX];
	struct cb_kernel_nbd_opts nbd = {
		.index = -1, .connections = t->o->connections, .io_timeout = t->a->io_timeout,
		.dead_conn_timeout = t->a->dead_conn_timeout,
		.identifier = t->a->nbd_identifier,
	};
	struct serve_request r = {
		.connection_info = t->ci, .backend_options = t->o->backend_options,
		.read_only = read_only(t), .stop_grace = t->a->stop_grace,
		.multipath = t->o->connector.multipath,
		.enforce_multipath = t->o->connector.enforce_multipath,
	};

	if (state_volume_dir(t->e, t->a->volume_id, dir, sizeof dir) == -1 ||
	    state_paths_path(t->e, t->a->volume_id, paths, sizeof paths) == -1)
		return -1;
	r.paths_file = paths;
	t->have_dir = true;
	if (device_is_nbd(t->a)) {
		if (nbd_identify(t) == -1)
			return -1;
		r.nbd = &nbd;
	} else {
		if (state_disk_path(t->e, t->a->volume_id, disk, sizeof disk) == -1)
			return -1;
		r.fuse_file = disk;
	}
	if (serving_start(t->e, &r, t->a) == -1)
		return -1;
	t->serving = true;
	return 0;
}

static int record(struct attach *t)
{
	struct cb_microversion mv = cb_cinder_microversion(t->c);
	struct cb_attachment *a = t->a;

	snprintf(a->flow, sizeof a->flow, "%s", t->legacy ? "legacy" : "v3");
	snprintf(a->microversion, sizeof a->microversion, "%d.%d", mv.major, mv.minor);
	snprintf(a->mode, sizeof a->mode, "%s", read_only(t) ? "ro" : "rw");
	if (FIELD_SET(a->mountpoint, t->o->mountpoint ? t->o->mountpoint : a->device,
		      "mountpoint") == -1)
		return -1;
	return state_save(t->e, a);
}

/* The legacy os-attach makes the attachment: find its ID, by our
 * mountpoint when the volume has several (multiattach). */
static void learn_legacy_attachment(struct attach *t)
{
	json_t *vol = cb_cinder_volume_get(t->c, t->a->volume_id);
	json_t *atts = json_object_get(vol, "attachments"), *att;
	size_t i;

	json_array_foreach(atts, i, att) {
		const char *dev = str(att, "device");

		if (json_array_size(atts) == 1 || (dev && strcmp(dev, t->a->mountpoint) == 0)) {
			if (FIELD_SET(t->a->attachment_id, str(att, "attachment_id"),
				      "attachment id") == -1)
				t->a->attachment_id[0] = '\0';
			break;
		}
	}
	json_decref(vol);
}

static int complete(struct attach *t)
{
	char host[256] = "";

	if (!t->legacy)
		return cb_cinder_attachment_complete(t->c, t->a->attachment_id);
	gethostname(host, sizeof host - 1);
	if (cb_cinder_volume_attach(t->c, t->a->volume_id, host, t->a->mountpoint,
				    t->a->mode) == -1)
		return -1;
	learn_legacy_attachment(t);
	if (t->a->attachment_id[0] && state_save(t->e, t->a) == -1)
		cb_log(CB_LOG_WARNING, "%s; detaching will ask Cinder for the attachment",
		       cb_get_error());
	return 0;
}

static void rollback_step(int ret, const char *what)
{
	if (ret == -1)
		cb_log(CB_LOG_WARNING, "rollback: %s failed: %s", what, cb_get_error());
}

/* Undoes, in reverse, what t did; says what it could not undo. */
static void rollback(struct attach *t)
{
	if (t->serving && serving_stop(t->a) == -1) {
		rollback_step(-1, "stopping the serving process");
		serving_kill(t->a);
	}
	if (t->have_dir)
		state_remove(t->e, t->a->volume_id);
	if (t->a->attachment_id[0] && !t->legacy)
		rollback_step(cb_cinder_attachment_delete(t->c, t->a->attachment_id),
			      "deleting the attachment");
	else if (t->connected)	/* Cinder unreserves too */
		rollback_step(cb_cinder_terminate_connection(t->c, t->a->volume_id,
							     t->a->connector),
			      "os-terminate_connection");
	else if (t->reserved)
		rollback_step(cb_cinder_volume_unreserve(t->c, t->a->volume_id), "os-unreserve");
}

static int run(struct attach *t)
{
	struct saved_error err;

	t->a->connector = cb_connector_get(&t->o->connector);
	t->a->backend_options = json_deep_copy(t->o->backend_options);
	if (t->o->backend_options && !t->a->backend_options) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	if (!t->a->connector || find_volume(t) == -1)
		return -1;
	t->legacy = cb_microversion_cmp(cb_cinder_microversion(t->c),
					CB_CINDER_MV_COMPLETE) < 0;
	if ((t->legacy ? connect_legacy(t) : connect_v3(t)) == 0 && serve(t) == 0 &&
	    record(t) == 0 && complete(t) == 0)
		return 0;
	error_save(&err);
	rollback(t);
	cb_set_error(err.errnum, "cannot attach volume %s: %s", t->a->volume_id, err.msg);
	return -1;
}

int cb_engine_attach(struct cb_engine *e, const struct cb_os_config *cfg,
		     const struct cb_attach_opts *o, struct cb_attachment *out)
{
	struct attach t = { .e = e, .o = o, .a = out };
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (check_options(o) == -1 || choose_export(o, out) == -1)
		return -1;
	t.c = engine_cinder_open(e, cfg);
	if (t.c)
		ret = run(&t);
	cb_cinder_close(t.c);
	json_decref(t.ci);
	if (ret == -1)
		cb_attachment_clear(out);
	return ret;
}
