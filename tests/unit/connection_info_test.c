/* Unit tests of connection_info (backends/connection_info.c): the nested
 * and flat forms Cinder sends, bad shapes, and the backend lookup.  The
 * samples are the lab's real answers (shared/reference/lab.md). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "lib/error.h"
#include "unit_json.h"

/* os-initialize_connection answer, lab.md, keyring included. */
static const char nested_sample[] =
	"{\"connection_info\": {\"driver_volume_type\": \"rbd\", \"data\": {"
	"\"name\": \"volumes/volume-dbfaf02f-b049-4f7e-adde-d525bb49de78\","
	"\"hosts\": [\"127.0.0.1\"], \"ports\": [\"6789\"], \"cluster_name\": \"ceph\","
	"\"auth_enabled\": true, \"auth_username\": \"cinder\", \"secret_type\": \"ceph\","
	"\"secret_uuid\": \"5c26183d-f617-4a7e-a224-510877c7e60c\","
	"\"volume_id\": \"dbfaf02f-b049-4f7e-adde-d525bb49de78\", \"discard\": true,"
	"\"keyring\": \"[client.cinder]\\n\\tkey = AQDCtwVr2YvnGxAAbnR/XIUzUXGBY9+9KCKfCQ==\\n\","
	"\"qos_specs\": null, \"access_mode\": \"rw\", \"encrypted\": false,"
	"\"cacheable\": false}}}";

/* The attachments API's connection_info for another volume, lab.md. */
static const char flat_sample[] =
	"{\"name\": \"volumes/volume-4d7dce94-d429-4c04-b6d4-1d8e8347a788\","
	"\"hosts\": [\"127.0.0.1\"], \"ports\": [\"6789\"], \"cluster_name\": \"ceph\","
	"\"auth_enabled\": true, \"auth_username\": \"cinder\", \"secret_type\": \"ceph\","
	"\"secret_uuid\": \"5c26183d-f617-4a7e-a224-510877c7e60c\","
	"\"volume_id\": \"4d7dce94-d429-4c04-b6d4-1d8e8347a788\", \"discard\": true,"
	"\"qos_specs\": null, \"access_mode\": \"rw\", \"encrypted\": false,"
	"\"cacheable\": false, \"driver_volume_type\": \"rbd\","
	"\"attachment_id\": \"5ee058dc-80ea-4f64-8c6e-9d6f1dfbcd99\"}";

static void assert_rbd_data(const json_t *info, const char *volume_id)
{
	const json_t *data = json_object_get(info, "data");
	char name[80];

	assert_string_equal(json_string_value(json_object_get(info, "driver_volume_type")),
			    "rbd");
	assert_true(json_is_object(data));
	assert_null(json_object_get(data, "driver_volume_type"));
	snprintf(name, sizeof name, "volumes/volume-%s", volume_id);
	assert_string_equal(json_string_value(json_object_get(data, "name")), name);
	assert_string_equal(json_string_value(json_object_get(data, "auth_username")),
			    "cinder");
	assert_string_equal(json_string_value(
		json_array_get(json_object_get(data, "ports"), 0)), "6789");
	assert_true(json_is_true(json_object_get(data, "auth_enabled")));
}

static void test_conninfo_nested(void **state)
{
	json_t *in = parse(nested_sample);
	json_t *out = cb_connection_info_normalize(in);

	assert_non_null(out);
	assert_rbd_data(out, "dbfaf02f-b049-4f7e-adde-d525bb49de78");
	assert_non_null(json_object_get(json_object_get(out, "data"), "keyring"));
	assert_int_equal(json_object_size(out), 2);
	/* The unwrapped nested form gives the same; the input is untouched. */
	json_t *again = cb_connection_info_normalize(json_object_get(in, "connection_info"));
	assert_true(json_equal(out, again));
	assert_true(json_is_object(json_object_get(in, "connection_info")));
	json_decref(again);
	json_decref(out);
	json_decref(in);
}

static void test_conninfo_flat(void **state)
{
	json_t *in = parse(flat_sample);
	json_t *out = cb_connection_info_normalize(in);
	json_t *data;

	assert_non_null(out);
	assert_rbd_data(out, "4d7dce94-d429-4c04-b6d4-1d8e8347a788");
	data = json_object_get(out, "data");
	assert_string_equal(json_string_value(json_object_get(data, "attachment_id")),
			    "5ee058dc-80ea-4f64-8c6e-9d6f1dfbcd99");
	assert_int_equal(json_object_size(data), json_object_size(in) - 1);
	assert_string_equal(json_string_value(json_object_get(in, "driver_volume_type")),
			    "rbd");
	json_decref(out);
	json_decref(in);
}

static void test_conninfo_flat_and_nested_agree(void **state)
{
	/* Flatten the nested sample the way Cinder's attachments API does;
	 * normalising must give back the nested form. */
	json_t *nested = parse(nested_sample);
	json_t *inner = json_object_get(nested, "connection_info");
	json_t *flat = json_deep_copy(json_object_get(inner, "data"));
	json_t *a, *b;

	json_object_set(flat, "driver_volume_type", json_object_get(inner, "driver_volume_type"));
	a = cb_connection_info_normalize(nested);
	b = cb_connection_info_normalize(flat);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	json_decref(flat);
	json_decref(nested);
}

static void test_conninfo_bad(void **state)
{
	json_t *j;

	/* An attachment made without a connector: lab.md. */
	j = parse("{\"connection_info\": {}}");
	assert_null(cb_connection_info_normalize(j));
	assert_int_equal(cb_get_errno(), ENODATA);
	json_decref(j);
	j = parse("{\"data\": {\"name\": \"x\"}}");
	assert_null(cb_connection_info_normalize(j));
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_non_null(strstr(cb_get_error(), "driver_volume_type"));
	json_decref(j);
	j = json_string("rbd");
	assert_null(cb_connection_info_normalize(j));
	assert_int_equal(cb_get_errno(), EINVAL);
	json_decref(j);
	assert_null(cb_connection_info_normalize(NULL));
}

static void test_conninfo_data_not_object(void **state)
{
	json_t *j = parse("{\"driver_volume_type\": \"rbd\", \"data\": [1]}");

	assert_null(cb_connection_info_normalize(j));
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_non_null(strstr(cb_get_error(), "\"data\" is not an object"));
	json_decref(j);
}

static void test_conninfo_backend(void **state)
{
	json_t *flat = parse(flat_sample);
	json_t *rbd = cb_connection_info_normalize(flat);
	json_t *iscsi = parse("{\"driver_volume_type\": \"fibre_channel\", \"data\": {}}");

#ifdef HAVE_RBD
	assert_ptr_equal(cb_connection_info_backend(rbd), &cb_rbd_backend);
	assert_non_null(strstr(cb_backend_type_list(), "rbd"));
#else
	assert_null(cb_connection_info_backend(rbd));
	assert_non_null(strstr(cb_get_error(), "\"rbd\""));
#endif
	assert_null(cb_connection_info_backend(iscsi));
	assert_int_equal(cb_get_errno(), ENOTSUP);
	assert_non_null(strstr(cb_get_error(), "fibre_channel"));
	assert_non_null(strstr(cb_get_error(), cb_backend_type_list()));
	assert_non_null(strstr(cb_backend_type_list(), "local"));
	json_decref(flat);
	json_decref(rbd);
	json_decref(iscsi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_nested),
		cmocka_unit_test(test_conninfo_flat),
		cmocka_unit_test(test_conninfo_flat_and_nested_agree),
		cmocka_unit_test(test_conninfo_bad),
		cmocka_unit_test(test_conninfo_data_not_object),
		cmocka_unit_test(test_conninfo_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
