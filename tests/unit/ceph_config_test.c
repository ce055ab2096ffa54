/* Unit tests of backends/ceph_config.c: finding a user's key in Ceph
 * keyrings as people write them, librados's mon_host from the "hosts" and
 * "ports" lists of Cinder's connection_info, and the image and user. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "backends/ceph_config.h"
#include "lib/error.h"

#define KEY "AQDCtwVr2YvnGxAAbnR/XIUzUXGBY9+9KCKfCQ=="

/* The key of client.cinder in text, or NULL. */
static const char *lookup(const char *text)
{
	static char key[CB_CEPH_KEY_MAX];

	memset(key, 'x', sizeof key);
	return cb_ceph_keyring_lookup(text, "client.cinder", key) ? key : NULL;
}

static void test_keyring_plain(void **state)
{
	/* As ceph auth get-or-create writes it. */
	assert_string_equal(lookup("[client.cinder]\n\tkey = " KEY "\n"
				   "\tcaps mon = \"profile rbd\"\n"), KEY);
	/* No final newline. */
	assert_string_equal(lookup("[client.cinder]\nkey = " KEY), KEY);
}

static void test_keyring_section_blanks(void **state)
{
	assert_string_equal(lookup("  [ client.cinder ]  \n key = " KEY "\n"), KEY);
	assert_string_equal(lookup("\t[client.cinder\t]\n\n\nkey = " KEY "\n"), KEY);
	assert_string_equal(lookup("[client.cinder] \t\nkey = " KEY "\n"), KEY);
}

static void test_keyring_key_line_variants(void **state)
{
	assert_string_equal(lookup("[client.cinder]\nkey=" KEY "\n"), KEY);
	assert_string_equal(lookup("[client.cinder]\n\tkey\t=\t" KEY " \t\n"), KEY);
	assert_string_equal(lookup("[client.cinder]\n   key   =   " KEY "\n"), KEY);
	/* Other settings before it, and lines that only start like it. */
	assert_string_equal(lookup("[client.cinder]\n\tcaps osd = \"profile rbd\"\n"
				   "\tkeys = AAAA\n\tkey = " KEY "\n"), KEY);
	assert_null(lookup("[client.cinder]\n\tkeys = " KEY "\n"));
	assert_null(lookup("[client.cinder]\n\tkey " KEY "\n"));
	assert_null(lookup("[client.cinder]\n\tkey =\n"));
	assert_null(lookup("[client.cinder]\n\tkey = \n"));
}

static void test_keyring_missing_key(void **state)
{
	assert_null(lookup(""));
	assert_null(lookup("[client.cinder]\n"));
	assert_null(lookup("[client.cinder]\n\tcaps mon = \"profile rbd\"\n"));
	/* A key before any section belongs to no one. */
	assert_null(lookup("key = " KEY "\n[client.cinder]\n"));
}

static void test_keyring_wrong_entity(void **state)
{
	assert_null(lookup("[client.admin]\n\tkey = " KEY "\n"));
	assert_null(lookup("[client.cinder2]\n\tkey = " KEY "\n"));
	assert_null(lookup("[client.cinde]\n\tkey = " KEY "\n"));
	assert_null(lookup("[client.cinder\n\tkey = " KEY "\n"));
	/* The key of the section that matches, not of the one before or after. */
	assert_string_equal(lookup("[client.admin]\nkey = AAAA\n[client.cinder]\nkey = " KEY
				   "\n[client.glance]\nkey = BBBB\n"), KEY);
	assert_null(lookup("[client.cinder]\n[client.admin]\nkey = " KEY "\n"));
}

static void test_keyring_not_base64(void **state)
{
	assert_null(lookup("[client.cinder]\n\tkey = AQD!Ctw\n"));
	assert_null(lookup("[client.cinder]\n\tkey = \"" KEY "\"\n"));
	assert_null(lookup("[client.cinder]\n\tkey = AQ DC\n"));
	/* A bad key line does not stop the search for a good one. */
	assert_string_equal(lookup("[client.cinder]\n\tkey = AQ-DC\n\tkey = " KEY "\n"), KEY);
}

static void test_keyring_long_key(void **state)
{
	char text[2 * CB_CEPH_KEY_MAX];
	const char *key;

	/* The longest key that fits the buffer with its NUL, then one more. */
	snprintf(text, sizeof text, "[client.cinder]\nkey = %0*d\n", CB_CEPH_KEY_MAX - 1, 0);
	key = lookup(text);
	assert_non_null(key);
	assert_int_equal(strlen(key), CB_CEPH_KEY_MAX - 1);
	snprintf(text, sizeof text, "[client.cinder]\nkey = %0*d\n", CB_CEPH_KEY_MAX, 0);
	assert_null(lookup(text));
}

static void test_keyring_crlf(void **state)
{
	assert_string_equal(lookup("[client.cinder]\r\n\tkey = " KEY "\r\n"), KEY);
	assert_string_equal(lookup("[client.admin]\r\nkey = AAAA\r\n[client.cinder]\r\n"
				   "key=" KEY "\r\n"), KEY);
}

static void test_keyring_file(void **state)
{
	char path[] = "/tmp/cb-keyring-XXXXXX";
	char key[CB_CEPH_KEY_MAX];
	const char text[] = "[client.cinder]\n\tkey = " KEY "\n";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(cb_ceph_keyring_file_lookup(path, "client.cinder", key), 0);
	assert_string_equal(key, KEY);
	assert_int_equal(cb_ceph_keyring_file_lookup(path, "client.admin", key), -1);
	assert_int_equal(errno, ENOKEY);
	unlink(path);
	assert_int_equal(cb_ceph_keyring_file_lookup(path, "client.cinder", key), -1);
	assert_int_equal(errno, ENOENT);
}

/* mon_host for connection_info data given as JSON text; NULL on error. */
static char *mon_host(const char *data_text)
{
	json_error_t err;
	json_t *data = json_loads(data_text, 0, &err);
	char *s;

	if (!data)
		fail_msg("bad test JSON %s: %s", data_text, err.text);
	s = cb_ceph_mon_host(data);
	json_decref(data);
	return s;
}

static void assert_mon_host(const char *data_text, const char *want)
{
	char *got = mon_host(data_text);

	if (!got)
		fail_msg("%s: %s", data_text, cb_get_error());
	assert_string_equal(got, want);
	free(got);
}

/* Fails with EINVAL and a message containing what. */
static void assert_mon_error(const char *data_text, const char *what)
{
	char *got = mon_host(data_text);

	if (got)
		fail_msg("%s gave %s", data_text, got);
	assert_int_equal(cb_get_errno(), EINVAL);
	if (!strstr(cb_get_error(), what))
		fail_msg("%s: \"%s\" does not say %s", data_text, cb_get_error(), what);
}

static void test_mon_ipv4(void **state)
{
	assert_mon_host("{\"hosts\": [\"127.0.0.1\"], \"ports\": [\"6789\"]}", "127.0.0.1:6789");
	assert_mon_host("{\"hosts\": [\"10.0.0.1\", \"10.0.0.2\", \"mon3.example\"],"
			" \"ports\": [\"6789\", \"3300\", \"1\"]}",
			"10.0.0.1:6789,10.0.0.2:3300,mon3.example:1");
}

static void test_mon_ipv6(void **state)
{
	assert_mon_host("{\"hosts\": [\"::1\"], \"ports\": [\"6789\"]}", "[::1]:6789");
	assert_mon_host("{\"hosts\": [\"[::1]\"], \"ports\": [\"6789\"]}", "[::1]:6789");
	assert_mon_host("{\"hosts\": [\"fd00::10\", \"10.0.0.2\", \"[fd00::12]\"],"
			" \"ports\": [\"6789\", \"6789\", \"3300\"]}",
			"[fd00::10]:6789,10.0.0.2:6789,[fd00::12]:3300");
	assert_mon_host("{\"hosts\": [\"fe80::1\", \"[fe80::2]\"]}", "[fe80::1],[fe80::2]");
}

static void test_mon_port_forms(void **state)
{
	assert_mon_host("{\"hosts\": [\"h\"], \"ports\": [6789]}", "h:6789");
	assert_mon_host("{\"hosts\": [\"h\", \"i\"], \"ports\": [\"6789\", 3300]}",
			"h:6789,i:3300");
	assert_mon_host("{\"hosts\": [\"h\"], \"ports\": [\"65535\"]}", "h:65535");
	assert_mon_host("{\"hosts\": [\"h\"], \"ports\": [\"06789\"]}", "h:6789");
}

static void test_mon_bad_ports(void **state)
{
	static const char *const bad[] = {
		"\"0\"", "0", "\"65536\"", "65536", "-1", "\"-1\"", "\"abc\"", "\"67x\"",
		"\"\"", "\" \"", "1.5", "null", "true", "[6789]", "\"99999999999999999999\"",
	};
	char text[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{\"hosts\": [\"h\"], \"ports\": [%s]}", bad[i]);
		assert_mon_error(text, "\"ports\"[0] is not a port number");
	}
	assert_mon_error("{\"hosts\": [\"h\", \"i\"], \"ports\": [\"1\", \"x\"]}",
			 "\"ports\"[1] is not a port number");
	assert_mon_error("{\"hosts\": [\"h\"], \"ports\": \"6789\"}", "\"ports\" is not a list");
}

static void test_mon_missing_ports(void **state)
{
	/* librados picks its default ports for a host without one. */
	assert_mon_host("{\"hosts\": [\"h\", \"::1\"]}", "h,[::1]");
	assert_mon_host("{\"hosts\": [\"h\", \"i\"], \"ports\": null}", "h,i");
	assert_mon_host("{\"hosts\": [\"h\", \"i\"], \"ports\": []}", "h,i");
	assert_mon_host("{\"hosts\": [\"h\", \"i\"], \"ports\": [\"6789\"]}", "h:6789,i");
}

static void test_mon_empty_hosts(void **state)
{
	assert_mon_error("{}", "no \"hosts\" list");
	assert_mon_error("{\"hosts\": []}", "no \"hosts\" list");
	assert_mon_error("{\"hosts\": null}", "no \"hosts\" list");
	assert_mon_error("{\"hosts\": \"127.0.0.1\"}", "no \"hosts\" list");
	assert_mon_error("{\"hosts\": [\"\"], \"ports\": [\"6789\"]}",
			 "\"hosts\"[0] is not a host name");
	assert_mon_error("{\"hosts\": [\"h\", 5]}", "\"hosts\"[1] is not a host name");
	assert_mon_error("{\"hosts\": [\"h\", null]}", "\"hosts\"[1] is not a host name");
}

/* Parses data_text into t (zeroed first); the result of the parse. */
static int target(struct cb_ceph_target *t, json_t **data, const char *data_text)
{
	json_error_t err;

	memset(t, 0, sizeof *t);
	*data = json_loads(data_text, 0, &err);
	if (!*data)
		fail_msg("bad test JSON %s: %s", data_text, err.text);
	return cb_ceph_target_parse(t, *data);
}

#define MONS "\"hosts\": [\"127.0.0.1\"], \"ports\": [\"6789\"]"

static void test_target_good(void **state)
{
	static const struct {
		const char *data, *pool, *ns, *image, *cluster, *entity;
		bool auth, read_only;
	} cases[] = {
		/* As the lab's Cinder sends it (shared/reference/lab.md). */
		{ "{\"name\": \"volumes/volume-1\", " MONS ", \"cluster_name\": \"ceph\", "
		  "\"auth_enabled\": true, \"auth_username\": \"cinder\", \"access_mode\": \"rw\"}",
		  "volumes", "", "volume-1", "ceph", "client.cinder", true, false },
		{ "{\"name\": \"p/ns/img\", " MONS ", \"auth_enabled\": false, "
		  "\"access_mode\": \"ro\", \"cluster_name\": \"backup\"}",
		  "p", "ns", "img", "backup", "client.admin", false, true },
		/* A user named with its type; no auth_enabled means cephx. */
		{ "{\"name\": \"p/i\", " MONS ", \"auth_username\": \"client.cinder\"}",
		  "p", "", "i", "ceph", "client.cinder", true, false },
	};
	struct cb_ceph_target t;
	json_t *data;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (target(&t, &data, cases[i].data) == -1)
			fail_msg("%s: %s", cases[i].data, cb_get_error());
		assert_string_equal(t.pool, cases[i].pool);
		assert_string_equal(t.ns, cases[i].ns);
		assert_string_equal(t.image, cases[i].image);
		assert_string_equal(t.cluster, cases[i].cluster);
		assert_string_equal(t.entity, cases[i].entity);
		assert_string_equal(t.mon_host, "127.0.0.1:6789");
		assert_int_equal(t.auth, cases[i].auth);
		assert_int_equal(t.read_only, cases[i].read_only);
		cb_ceph_target_free(&t);
		json_decref(data);
	}
}

/* The parse of data_text fails with EINVAL, saying what. */
static void assert_target_error(const char *data_text, const char *what)
{
	struct cb_ceph_target t;
	json_t *data;

	assert_int_equal(target(&t, &data, data_text), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	if (!strstr(cb_get_error(), what))
		fail_msg("%s: \"%s\" does not say %s", data_text, cb_get_error(), what);
	cb_ceph_target_free(&t);
	json_decref(data);
}

static void test_target_bad(void **state)
{
	static const char *const bad_names[] = {
		"volumes", "/img", "p/", "p//i", "p/a/b/c", "/", "",
	};
	char text[256];
	char user[300];
	char long_text[sizeof user + 128];

	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		snprintf(text, sizeof text, "{\"name\": \"%s\", " MONS ", "
			 "\"auth_username\": \"c\"}", bad_names[i]);
		assert_target_error(text, "not \"pool/image\" or \"pool/namespace/image\"");
	}
	assert_target_error("{" MONS ", \"auth_username\": \"c\"}", "no \"name\" string");
	assert_target_error("{\"name\": \"p/i\", \"auth_username\": \"c\"}", "no \"hosts\"");
	assert_target_error("{\"name\": \"p/i\", " MONS ", \"auth_enabled\": true}",
			    "no \"auth_username\"");
	memset(user, 'u', sizeof user - 1);
	user[sizeof user - 1] = '\0';
	snprintf(long_text, sizeof long_text, "{\"name\": \"p/i\", " MONS ", "
		 "\"auth_username\": \"%s\"}", user);
	assert_target_error(long_text, "\"auth_username\" is too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_plain),
		cmocka_unit_test(test_keyring_section_blanks),
		cmocka_unit_test(test_keyring_key_line_variants),
		cmocka_unit_test(test_keyring_missing_key),
		cmocka_unit_test(test_keyring_wrong_entity),
		cmocka_unit_test(test_keyring_not_base64),
		cmocka_unit_test(test_keyring_long_key),
		cmocka_unit_test(test_keyring_crlf),
		cmocka_unit_test(test_keyring_file),
		cmocka_unit_test(test_mon_ipv4),
		cmocka_unit_test(test_mon_ipv6),
		cmocka_unit_test(test_mon_port_forms),
		cmocka_unit_test(test_mon_bad_ports),
		cmocka_unit_test(test_mon_missing_ports),
		cmocka_unit_test(test_mon_empty_hosts),
		cmocka_unit_test(test_target_good),
		cmocka_unit_test(test_target_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
