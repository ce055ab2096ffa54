/* connection_info normalisation: see connection_info.h. */
#include <config.h>

#include <errno.h>
#include <string.h>

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
	if (!type) {
		cb_set_error(EINVAL, "connection_info has no \"driver_volume_type\" string");
		return NULL;
	}
	if (json_is_object(json_object_get(in, "data")))
		return from_nested(in);
	return from_flat(in, type);
}
