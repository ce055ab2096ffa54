/* struct cb_attachment and its JSON form (the state file, list --json). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "lib/error.h"

int field_set(char *dst, size_t len, const char *s, const char *what)
{
	if (!s)
		s = "";
	if (strlen(s) >= len) {
		cb_set_error(EOVERFLOW, "%s \"%.40s...\" is longer than %zu bytes", what, s,
			     len - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

void cb_attachment_clear(struct cb_attachment *a)
{
	json_decref(a->connector);
	json_decref(a->backend_options);
	memset(a, 0, sizeof *a);
}

/* Only an nbd attachment has them. */
static json_t *add_nbd_fields(json_t *j, const struct cb_attachment *a)
{
	json_t *nbd = json_pack("{s:s, s:I, s:I}", "nbd_identifier", a->nbd_identifier,
				"io_timeout", (json_int_t)a->io_timeout,
				"dead_conn_timeout", (json_int_t)a->dead_conn_timeout);

	if (!nbd || json_object_update(j, nbd) == -1) {
		json_decref(j);
		j = NULL;
	}
	json_decref(nbd);
	return j;
}

json_t *cb_attachment_to_json(const struct cb_attachment *a)
{
	json_t *j = json_pack("{s:s, s:s?, s:s, s:s, s:O?, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:O*, "
			      "s:I}",
			 "volume_id", a->volume_id,
			 "attachment_id", a->attachment_id[0] ? a->attachment_id : NULL,
			 "flow", a->flow, "microversion", a->microversion,
			 "connector", a->connector, "device", a->device,
			 "fuse_file", a->fuse_file, "pid", (json_int_t)a->pid,
			 "backend", a->backend, "export", a->export_kind,
			 "mountpoint", a->mountpoint, "mode", a->mode,
			 "backend_options", a->backend_options,
			 "stop_grace", (json_int_t)a->stop_grace);

	return j && a->nbd_identifier[0] ? add_nbd_fields(j, a) : j;
}

static const char *str(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

int attachment_from_json(const json_t *j, struct cb_attachment *a)
{
	const char *id = str(j, "volume_id");

	memset(a, 0, sizeof *a);
	if (!id || !json_is_integer(json_object_get(j, "pid"))) {
		cb_set_error(EINVAL, "not an attachment record (no volume_id or pid)");
		return -1;
	}
	a->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	if (FIELD_SET(a->volume_id, id, "volume_id") == -1 ||
	    FIELD_SET(a->attachment_id, str(j, "attachment_id"), "attachment_id") == -1 ||
	    FIELD_SET(a->flow, str(j, "flow"), "flow") == -1 ||
	    FIELD_SET(a->microversion, str(j, "microversion"), "microversion") == -1 ||
	    FIELD_SET(a->backend, str(j, "backend"), "backend") == -1 ||
	    FIELD_SET(a->export_kind, str(j, "export"), "export") == -1 ||
	    FIELD_SET(a->mode, str(j, "mode"), "mode") == -1 ||
	    FIELD_SET(a->device, str(j, "device"), "device") == -1 ||
	    FIELD_SET(a->fuse_file, str(j, "fuse_file"), "fuse_file") == -1 ||
	    FIELD_SET(a->mountpoint, str(j, "mountpoint"), "mountpoint") == -1 ||
	    FIELD_SET(a->nbd_identifier, str(j, "nbd_identifier"), "nbd_identifier") == -1)
		return -1;
	a->io_timeout = (unsigned)json_integer_value(json_object_get(j, "io_timeout"));
	a->dead_conn_timeout =
		(unsigned)json_integer_value(json_object_get(j, "dead_conn_timeout"));
	a->stop_grace = (unsigned)json_integer_value(json_object_get(j, "stop_grace"));
	a->connector = json_incref(json_object_get(j, "connector"));
	a->backend_options = json_incref(json_object_get(j, "backend_options"));
	return 0;
}

const char *cb_attachment_health_text(const struct cb_attachment_health *h)
{
	return !h->alive ? "dead" : h->device_present ? "ok" : "no-device";
}
