/* The legacy volume actions (POST /volumes/{id}/action).  See cinder.h
 * and the state machine in shared/reference/cinder-api.md 2.1. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "internal.h"
#include "lib/error.h"

#define WHAT_MAX 128
#define WHAT_FMT "%s of volume %s"

/* Posts {"<action>": args} (args is consumed; NULL sends null, as the
 * lab's Cinder accepted for argument-less actions). */
static int action(struct cb_cinder *c, const char *volume_id, const char *name,
		  json_t *args, json_t **out)
{
	char *path = cb_cinder_path("/volumes/%s/action", volume_id);
	json_t *body = json_object();
	char what[WHAT_MAX];
	int ret = -1;

	snprintf(what, sizeof what, WHAT_FMT, name, volume_id);
	if (!path || !body) {
		json_decref(args);
		cb_set_error(ENOMEM, "out of memory");
		goto out;
	}
	/* set_new takes args whether it succeeds or not. */
	if (json_object_set_new(body, name, args ? args : json_null()) < 0) {
		cb_set_error(ENOMEM, "out of memory");
		goto out;
	}
	ret = cb_cinder_call(c, "POST", path, body, what, out);
out:
	json_decref(body);
	free(path);
	return ret;
}

static json_t *connector_args(const json_t *connector)
{
	if (!connector) {
		cb_set_error(EINVAL, "no connector given");
		return NULL;
	}
	return json_pack("{s:O}", "connector", connector);
}

int cb_cinder_volume_reserve(struct cb_cinder *c, const char *volume_id)
{
	return action(c, volume_id, "os-reserve", NULL, NULL);
}

int cb_cinder_volume_unreserve(struct cb_cinder *c, const char *volume_id)
{
	return action(c, volume_id, "os-unreserve", NULL, NULL);
}

json_t *cb_cinder_initialize_connection(struct cb_cinder *c, const char *volume_id,
					const json_t *connector)
{
	json_t *args = connector_args(connector), *answer, *info;
	char what[WHAT_MAX];

	if (!args)
		return NULL;
	if (action(c, volume_id, "os-initialize_connection", args, &answer) < 0)
		return NULL;
	snprintf(what, sizeof what, WHAT_FMT, "os-initialize_connection", volume_id);
	info = cb_answer_member(answer, NULL, "connection_info", JSON_OBJECT, what);
	json_incref(info);
	json_decref(answer);
	return info;
}

int cb_cinder_volume_attach(struct cb_cinder *c, const char *volume_id,
			    const char *host_name, const char *mountpoint,
			    const char *mode)
{
	/* The schema rejects "instance_uuid": null, so the key is left out. */
	json_t *args = json_pack("{s:s, s:s, s:s}", "host_name", host_name,
				 "mountpoint", mountpoint, "mode", mode ? mode : "rw");

	if (!args) {
		cb_set_error(EINVAL, "os-attach needs a host name and a mountpoint");
		return -1;
	}
	return action(c, volume_id, "os-attach", args, NULL);
}

int cb_cinder_volume_begin_detaching(struct cb_cinder *c, const char *volume_id)
{
	return action(c, volume_id, "os-begin_detaching", NULL, NULL);
}

int cb_cinder_volume_roll_detaching(struct cb_cinder *c, const char *volume_id)
{
	return action(c, volume_id, "os-roll_detaching", NULL, NULL);
}

int cb_cinder_terminate_connection(struct cb_cinder *c, const char *volume_id,
				   const json_t *connector)
{
	json_t *args = connector_args(connector);

	if (!args)
		return -1;
	return action(c, volume_id, "os-terminate_connection", args, NULL);
}

int cb_cinder_volume_detach(struct cb_cinder *c, const char *volume_id,
			    const char *attachment_id)
{
	json_t *args = json_pack("{s:s*}", "attachment_id", attachment_id);

	if (!args) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return action(c, volume_id, "os-detach", args, NULL);
}
