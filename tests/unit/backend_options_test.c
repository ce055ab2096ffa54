/* Unit tests of backend-specific open options (backends/backend.c): the
 * check a caller runs before contacting anything, and the getter a
 * backend reads its own options with. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "backends/backend.h"
#include "lib/error.h"
#include "unit_json.h"

/* The check refuses text with EINVAL and a message containing what. */
static void assert_refused(const char *text, const char *what)
{
	json_t *j = parse(text);

	assert_int_equal(cb_backend_options_check(j), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	if (!strstr(cb_get_error(), what))
		fail_msg("%s: \"%s\" does not say %s", text, cb_get_error(), what);
	json_decref(j);
}

static void test_options_accepted(void **state)
{
	json_t *j = parse("{\"rbd.keyring\": \"/etc/ceph/x.keyring\"}");

	assert_int_equal(cb_backend_options_check(NULL), 0);
	assert_int_equal(cb_backend_options_check(j), 0);
	json_decref(j);
	j = parse("{}");
	assert_int_equal(cb_backend_options_check(j), 0);
	json_decref(j);
}

static void test_options_unknown(void **state)
{
	assert_refused("{\"rbd.keyrnig\": \"/x\"}",
		       "unknown backend option 'rbd.keyrnig': rbd takes keyring");
	assert_refused("{\"file.keyring\": \"/x\"}", "'file.keyring': file takes no options");
	assert_refused("{\"rdb.keyring\": \"/x\"}", "no backend is called 'rdb'");
	assert_refused("{\"rdb.keyring\": \"/x\"}", "backends: file, rbd");
	assert_refused("{\"keyring\": \"/x\"}", "'keyring' is not BACKEND.NAME");
	assert_refused("{\".keyring\": \"/x\"}", "'.keyring' is not BACKEND.NAME");
	assert_refused("{\"rbd.\": \"/x\"}", "'rbd.' is not BACKEND.NAME");
	/* One bad key among good ones. */
	assert_refused("{\"rbd.keyring\": \"/x\", \"rbd.user\": \"admin\"}", "'rbd.user'");
}

static void test_options_values(void **state)
{
	assert_refused("[\"rbd.keyring\"]", "not a JSON object");
	assert_refused("{\"rbd.keyring\": 5}", "'rbd.keyring' is not a string");
	assert_refused("{\"rbd.keyring\": null}", "'rbd.keyring' is not a string");
	assert_refused("{\"rbd.keyring\": \"\"}", "'rbd.keyring' is empty: it names a file");
	/* Values are never echoed: they may be secrets. */
	assert_refused("{\"rbd.keyring\": [\"s3cret\"]}", "'rbd.keyring'");
	assert_null(strstr(cb_get_error(), "s3cret"));
}

static void test_options_find(void **state)
{
	const struct cb_backend_ops *ops = NULL;
	const struct cb_backend_option *o = cb_backend_option_find("rbd.keyring", &ops);

	assert_non_null(o);
	assert_ptr_equal(ops, &cb_rbd_backend);
	assert_string_equal(o->name, "keyring");
	assert_true(o->path);
	assert_false(o->secret);
	assert_non_null(o->help);
	assert_null(cb_backend_option_find("rbd.nope", &ops));
	assert_int_equal(cb_get_errno(), EINVAL);
}

static void test_options_get(void **state)
{
	json_t *j = parse("{\"rbd.keyring\": \"/etc/ceph/x.keyring\"}");
	struct cb_open_opts with = { .options = j }, without = { 0 };

	assert_string_equal(cb_backend_option(&with, &cb_rbd_backend, "keyring"),
			    "/etc/ceph/x.keyring");
	assert_null(cb_backend_option(&with, &cb_file_backend, "keyring"));
	assert_null(cb_backend_option(&without, &cb_rbd_backend, "keyring"));
	json_decref(j);
}

static void test_options_seconds(void **state)
{
	json_t *j = parse("{\"rbd.io_timeout\": \"45\", \"iscsi.io_timeout\": \"-1\"}");
	struct cb_open_opts with = { .options = j }, without = { 0 };
	const char *bad[] = { "0", "-1", " 5", "5s", "", "86401", "99999999999999999999" };
	unsigned s = 0;

	assert_int_equal(cb_backend_option_seconds(&with, &cb_rbd_backend, "io_timeout", 30,
						   86400, &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(cb_backend_option_seconds(&without, &cb_rbd_backend, "io_timeout", 30,
						   86400, &s), 0);
	assert_int_equal(s, 30);
	json_decref(j);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		j = json_pack("{s:s}", "rbd.io_timeout", bad[i]);
		with.options = j;
		assert_int_equal(cb_backend_option_seconds(&with, &cb_rbd_backend, "io_timeout",
							   30, 86400, &s), -1);
		assert_int_equal(cb_get_errno(), EINVAL);
		if (!strstr(cb_get_error(), "rbd.io_timeout is a number of seconds from 1 "
			    "to 86400"))
			fail_msg("'%s': \"%s\"", bad[i], cb_get_error());
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_accepted),
		cmocka_unit_test(test_options_unknown),
		cmocka_unit_test(test_options_values),
		cmocka_unit_test(test_options_find),
		cmocka_unit_test(test_options_get),
		cmocka_unit_test(test_options_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
