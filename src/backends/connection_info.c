/* connection_info: see connection_info.h. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "connection_info.h"
#include "lib/error.h"

static json_t *from_nested(const json_t *in)
{
	json_t *out = json_deep_copy(in);

	if (!out)
		cb_set_error(ENOMEM, "out of memory");
	return out;
}

static json_t *from_flat(const json_t *in, const char *type)
{
	json_t *data = json_deep_copy(in);
	json_t *out = json_object();
	int err = !data || !out;

	if (!err) {
		json_object_del(data, "driver_volume_type");
		err = json_object_set_new(out, "driver_volume_type", json_string(type)) ||
		      json_object_set(out, "data", data);
	}
	json_decref(data);
	if (err) {
		json_decref(out);
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	return out;
}

json_t *cb_connection_info_normalize(const json_t *in)
{
	const json_t *wrapped = json_object_get(in, "connection_info");
	const json_t *data;
	const char *type;

	if (json_is_object(wrapped))
		in = wrapped;
	if (!json_is_object(in)) {
		cb_set_error(EINVAL, "connection_info is not a JSON object");
		return NULL;
	}
	if (json_object_size(in) == 0) {
		cb_set_error(ENODATA, "connection_info is empty: the attachment "
			     "was made without a connector");
		return NULL;
	}
	type = json_string_value(json_object_get(in, "driver_volume_type"));
	if (!type || !*type) {
		cb_set_error(EINVAL, "connection_info has no \"driver_volume_type\" string");
		return NULL;
	}
	data = json_object_get(in, "data");
	if (json_is_object(data))
		return from_nested(in);
	if (data) {
		cb_set_error(EINVAL, "connection_info \"data\" is not an object");
		return NULL;
	}
	return from_flat(in, type);
}

const char *cb_connection_info_type(const json_t *ci)
{
	return json_string_value(json_object_get(ci, "driver_volume_type"));
}

const json_t *cb_connection_info_data(const json_t *ci)
{
	return json_object_get(ci, "data");
}

const struct cb_backend_ops *cb_connection_info_backend(const json_t *ci)
{
	const char *type = cb_connection_info_type(ci);
	const struct cb_backend_ops *ops;

	if (!type) {
		cb_set_error(EINVAL, "connection_info has no \"driver_volume_type\" string");
		return NULL;
	}
	for (size_t i = 0; (ops = cb_backends[i]); i++)
		for (const char *const *t = ops->volume_types; *t; t++)
			if (strcmp(*t, type) == 0)
				return ops;
	cb_set_error(ENOTSUP, "driver_volume_type \"%s\" is not one cinder-brick can "
		     "open (it can: %s)", type, cb_backend_type_list());
	return NULL;
}

static char type_list[256];

static void build_type_list(void)
{
	for (size_t i = 0; cb_backends[i]; i++)
		for (const char *const *t = cb_backends[i]->volume_types; *t; t++)
			snprintf(type_list + strlen(type_list), sizeof type_list - strlen(type_list),
				 "%s%s", type_list[0] ? ", " : "", *t);
}

const char *cb_backend_type_list(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_type_list);
	return type_list;
}
