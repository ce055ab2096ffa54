/* The v3 attachments API.  See cinder.h. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "internal.h"
#include "lib/error.h"

/* A volume or attachment ID is 36 characters; messages stay short. */
#define WHAT_MAX 128

static int check_mode(const struct cb_cinder *c, const char *mode, bool *send)
{
	*send = false;
	if (!mode)
		return 0;
	if (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0) {
		cb_set_error(EINVAL, "attach mode \"%s\" is not rw or ro", mode);
		return -1;
	}
	/* Before 3.54 the schema forbids "mode", and rw is what Cinder does
	 * without it; ro cannot be had at all. */
	if (cb_microversion_cmp(c->mv, CB_CINDER_MV_ATTACH_MODE) >= 0) {
		*send = true;
		return 0;
	}
	return strcmp(mode, "rw") == 0 ? 0 :
	       cb_cinder_need(c, CB_CINDER_MV_ATTACH_MODE, "a read-only attachment");
}

static json_t *create_body(const char *volume_id, const json_t *connector,
			   const char *mode)
{
	json_t *att = json_pack("{s:s}", "volume_uuid", volume_id);

	if (att && connector &&
	    json_object_set_new(att, "connector", json_deep_copy(connector)) < 0)
		goto fail;
	if (att && mode && json_object_set_new(att, "mode", json_string(mode)) < 0)
		goto fail;
	return att ? json_pack("{s:o}", "attachment", att) : NULL;
fail:
	json_decref(att);
	return NULL;
}

/* Calls, then returns the "attachment" member of the answer, with the
 * ID callers go on with checked. */
static json_t *call_attachment(struct cb_cinder *c, const char *method,
			       const char *path, const json_t *body, const char *what)
{
	json_t *answer, *att = NULL;

	if (!path)
		return NULL;
	if (cb_cinder_call(c, method, path, body, what, &answer) == 0) {
		att = cb_answer_member(answer, NULL, "attachment", JSON_OBJECT, what);
		att = att && cb_answer_id(att, "attachment", "id", what) ? json_incref(att) : NULL;
	}
	json_decref(answer);
	return att;
}

json_t *cb_cinder_attachment_create(struct cb_cinder *c, const char *volume_id,
				    const json_t *connector, const char *mode)
{
	char what[WHAT_MAX];
	json_t *body, *att;
	bool send_mode;

	snprintf(what, sizeof what, "create attachment for volume %s", volume_id);
	if (cb_cinder_need(c, CB_CINDER_MV_ATTACHMENTS, "the attachments API") < 0 ||
	    check_mode(c, mode, &send_mode) < 0)
		return NULL;
	body = create_body(volume_id, connector, send_mode ? mode : NULL);
	if (!body) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	att = call_attachment(c, "POST", "/attachments", body, what);
	json_decref(body);
	return att;
}

json_t *cb_cinder_attachment_update(struct cb_cinder *c, const char *attachment_id,
				    const json_t *connector)
{
	char *path = cb_cinder_path("/attachments/%s", attachment_id);
	char what[WHAT_MAX];
	json_t *body, *att = NULL;

	snprintf(what, sizeof what, "update attachment %s", attachment_id);
	if (cb_cinder_need(c, CB_CINDER_MV_ATTACHMENTS, "the attachments API") < 0)
		goto out;
	if (!connector) {
		cb_set_error(EINVAL, "%s: no connector given", what);
		goto out;
	}
	body = json_pack("{s:{s:O}}", "attachment", "connector", connector);
	if (!body) {
		cb_set_error(ENOMEM, "out of memory");
		goto out;
	}
	att = call_attachment(c, "PUT", path, body, what);
	json_decref(body);
out:
	free(path);
	return att;
}

int cb_cinder_attachment_complete(struct cb_cinder *c, const char *attachment_id)
{
	char *path = cb_cinder_path("/attachments/%s/action", attachment_id);
	json_t *body = json_pack("{s:n}", "os-complete");
	char what[WHAT_MAX];
	int ret = -1;

	snprintf(what, sizeof what, "complete attachment %s", attachment_id);
	if (!path || !body) {
		cb_set_error(ENOMEM, "out of memory");
		goto out;
	}
	if (cb_cinder_need(c, CB_CINDER_MV_COMPLETE, "completing an attachment") == 0)
		ret = cb_cinder_call(c, "POST", path, body, what, NULL);
out:
	json_decref(body);
	free(path);
	return ret;
}

int cb_cinder_attachment_delete(struct cb_cinder *c, const char *attachment_id)
{
	char *path = cb_cinder_path("/attachments/%s", attachment_id);
	char what[WHAT_MAX];
	int ret = -1;

	snprintf(what, sizeof what, "delete attachment %s", attachment_id);
	if (path && cb_cinder_need(c, CB_CINDER_MV_ATTACHMENTS, "the attachments API") == 0)
		ret = cb_cinder_call(c, "DELETE", path, NULL, what, NULL);
	free(path);
	return ret;
}

json_t *cb_cinder_attachment_get(struct cb_cinder *c, const char *attachment_id)
{
	char *path = cb_cinder_path("/attachments/%s", attachment_id);
	char what[WHAT_MAX];
	json_t *att = NULL;

	snprintf(what, sizeof what, "get attachment %s", attachment_id);
	if (cb_cinder_need(c, CB_CINDER_MV_ATTACHMENTS, "the attachments API") == 0)
		att = call_attachment(c, "GET", path, NULL, what);
	free(path);
	return att;
}

/* As in volumes.c: a server that ignored the filter must not make
 * another volume's attachments ours.  The IDs of ours are deleted next,
 * so they are checked. */
static json_t *of_volume(const json_t *list, const char *volume_id, const char *what)
{
	json_t *mine = json_array(), *att;
	const char *v;
	char at[48];
	size_t i;

	if (!mine) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	json_array_foreach(list, i, att) {
		snprintf(at, sizeof at, "attachments[%zu]", i);
		v = json_string_value(cb_answer_member(att, at, "volume_id", JSON_STRING, what));
		if (!v)
			goto fail;
		if (strcmp(v, volume_id) != 0)
			continue;
		if (!cb_answer_id(att, at, "id", what))
			goto fail;
		if (json_array_append(mine, att) < 0) {
			cb_set_error(ENOMEM, "out of memory");
			goto fail;
		}
	}
	return mine;
fail:
	json_decref(mine);
	return NULL;
}

json_t *cb_cinder_attachment_list(struct cb_cinder *c, const char *volume_id)
{
	char *path = cb_cinder_path("/attachments/detail?volume_id=%s", volume_id);
	json_t *answer = NULL, *atts, *list = NULL;
	char what[WHAT_MAX];

	snprintf(what, sizeof what, "list attachments of volume %s", volume_id);
	if (!path || cb_cinder_need(c, CB_CINDER_MV_ATTACHMENTS, "the attachments API") < 0)
		goto out;
	if (cb_cinder_call(c, "GET", path, NULL, what, &answer) < 0)
		goto out;
	atts = cb_answer_member(answer, NULL, "attachments", JSON_ARRAY, what);
	if (atts)
		list = of_volume(atts, volume_id, what);
out:
	json_decref(answer);
	free(path);
	return list;
}
