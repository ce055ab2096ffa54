/* Unit tests of iscsi_target_parse (backends/iscsi_target.c): the
 * connection_info Cinder's iSCSI drivers send, its multipath lists, CHAP,
 * discovery and the portals it lists, and bad shapes, whose messages never
 * carry a password. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "backends/iscsi_target.h"
#include "lib/error.h"
#include "unit_json.h"

/* What Cinder's LVM driver (tgtadm helper) returns for a target with two
 * portals: the first path alone, then every path in the lists. */
static const char lvm_sample[] =
	"{\"target_discovered\": false, \"target_portal\": \"10.0.0.1:3260\","
	"\"target_iqn\": \"iqn.2010-10.org.openstack:volume-1\", \"target_lun\": 1,"
	"\"target_portals\": [\"10.0.0.1:3260\", \"10.0.0.2:3260\"],"
	"\"target_iqns\": [\"iqn.2010-10.org.openstack:volume-1\","
	"                  \"iqn.2010-10.org.openstack:volume-1\"],"
	"\"target_luns\": [1, 1], \"volume_id\": \"1\", \"auth_method\": \"CHAP\","
	"\"auth_username\": \"u1\", \"auth_password\": \"pw-sample-1\", \"encrypted\": false,"
	"\"discard\": true, \"access_mode\": \"rw\"}";

static int parse_sample(const char *text, bool multipath, struct iscsi_target *t)
{
	json_t *j = parse(text);
	int r = iscsi_target_parse(j, multipath, t);

	json_decref(j);
	return r;
}

static void test_single_path_without_multipath(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample(lvm_sample, false, &t), 0);
	assert_int_equal(t.n_paths, 1);
	assert_string_equal(t.paths[0].portal, "10.0.0.1:3260");
	assert_string_equal(t.paths[0].iqn, "iqn.2010-10.org.openstack:volume-1");
	assert_int_equal(t.paths[0].lun, 1);
	assert_true(t.chap);
	assert_string_equal(t.session.user, "u1");
	assert_string_equal(t.session.password, "pw-sample-1");
	assert_true(t.discard);
	assert_false(t.read_only);
	iscsi_target_wipe(&t);
	assert_int_equal(t.session.password[0], 0);
}

static void test_every_path_with_multipath(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample(lvm_sample, true, &t), 0);
	assert_int_equal(t.n_paths, 2);
	assert_string_equal(t.paths[1].portal, "10.0.0.2:3260");
	assert_string_equal(t.paths[1].iqn, "iqn.2010-10.org.openstack:volume-1");
}

static void test_lists_alone_and_defaults(void **state)
{
	struct iscsi_target t;

	/* No single path, no target_iqns / target_luns: the single IQN and
	 * LUN (here a string, as some drivers send) for every portal. */
	assert_int_equal(parse_sample("{\"target_portals\": [\"a:3260\", \"[::1]:3261\"],"
				      "\"target_iqn\": \"iqn.x:y\", \"target_lun\": \"7\","
				      "\"access_mode\": \"ro\"}", false, &t), 0);
	assert_int_equal(t.n_paths, 2);
	assert_string_equal(t.paths[1].portal, "[::1]:3261");
	assert_string_equal(t.paths[1].iqn, "iqn.x:y");
	assert_int_equal(t.paths[1].lun, 7);
	assert_true(t.read_only);
	assert_false(t.chap);
	assert_false(t.discard);
}

static void test_bad_shapes(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample("{\"target_iqn\": \"iqn.x:y\", \"target_lun\": 1}",
				      false, &t), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_non_null(strstr(cb_get_error(), "target_portal"));
	assert_int_equal(parse_sample("{\"target_portal\": \"a:1\", \"target_iqn\": \"i\","
				      "\"target_lun\": 70000}", false, &t), -1);
	assert_non_null(strstr(cb_get_error(), "target_lun"));
	assert_int_equal(parse_sample("{\"target_portals\": [\"a:1\", \"b:1\"],"
				      "\"target_iqns\": [\"i\"], \"target_luns\": [1, 1]}",
				      true, &t), -1);
	assert_non_null(strstr(cb_get_error(), "same length"));
	assert_int_equal(parse_sample("{\"target_portals\": \"a:1\"}", true, &t), -1);
	assert_int_equal(parse_sample("{\"target_portal\": \"a:1\", \"target_iqn\": \"i\","
				      "\"target_lun\": 0, \"access_mode\": \"rx\"}", false, &t), -1);
	assert_non_null(strstr(cb_get_error(), "access_mode"));
	assert_int_equal(iscsi_target_parse(NULL, false, &t), -1);
}

static void test_chap_refusals_keep_the_secret(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample("{\"target_portal\": \"a:1\", \"target_iqn\": \"i\","
				      "\"target_lun\": 0, \"auth_method\": \"CHAP\","
				      "\"auth_password\": \"pw-sample-2\"}", false, &t), -1);
	assert_non_null(strstr(cb_get_error(), "auth_username"));
	assert_null(strstr(cb_get_error(), "pw-sample-2"));
	assert_int_equal(t.session.password[0], 0);
	assert_int_equal(parse_sample("{\"target_portal\": \"a:1\", \"target_iqn\": \"i\","
				      "\"target_lun\": 0, \"auth_method\": \"Kerberos\","
				      "\"auth_username\": \"u\", \"auth_password\": \"pw-sample-3\"}",
				      false, &t), -1);
	assert_int_equal(cb_get_errno(), ENOTSUP);
	assert_null(strstr(cb_get_error(), "pw-sample-3"));
}

/* One portal and multipath: discovery's, with its own CHAP credentials;
 * without multipath, nothing is discovered and discovery_auth_* unread. */
static const char one_portal[] =
	"{\"target_portal\": \"10.0.0.1:3260\", \"target_iqn\": \"iqn.2010-10.org.x:v\","
	"\"target_lun\": 2, \"discovery_auth_method\": \"CHAP\","
	"\"discovery_auth_username\": \"du\", \"discovery_auth_password\": \"dpw-1\"}";

static void test_discovery_asked_for(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample(one_portal, false, &t), 0);
	assert_false(t.discover);
	assert_false(t.discovery_chap);
	assert_int_equal(parse_sample(one_portal, true, &t), 0);
	assert_true(t.discover);
	assert_true(t.discovery_chap);
	assert_string_equal(t.discovery.user, "du");
	assert_string_equal(t.discovery.password, "dpw-1");
	assert_false(t.chap);
	iscsi_target_wipe(&t);
	assert_int_equal(t.discovery.password[0], 0);
	/* The lists are the paths: nothing to discover. */
	assert_int_equal(parse_sample(lvm_sample, true, &t), 0);
	assert_false(t.discover);
	iscsi_target_wipe(&t);
}

static void test_discovered_portals(void **state)
{
	struct iscsi_target t;

	assert_int_equal(parse_sample(one_portal, true, &t), 0);
	/* The portal connection_info names, listed again: no new path. */
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", "10.0.0.1:3260,1");
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", "10.0.0.2:3260,1");
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", "[fd00::2]:3260,2");
	/* Another target's portal, and addresses with nothing before the tag. */
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:other", "10.0.0.3:3260,1");
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", ",1");
	iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", "");
	assert_int_equal(t.n_paths, 3);
	assert_string_equal(t.paths[1].portal, "10.0.0.2:3260");
	assert_string_equal(t.paths[1].iqn, "iqn.2010-10.org.x:v");
	assert_int_equal(t.paths[1].lun, 2);
	assert_string_equal(t.paths[2].portal, "[fd00::2]:3260");
	for (int i = 4; i < 20; i++) {
		char a[32];

		snprintf(a, sizeof a, "10.0.1.%d:3260,1", i);
		iscsi_target_add_discovered(&t, "iqn.2010-10.org.x:v", a);
	}
	assert_int_equal(t.n_paths, ISCSI_MAX_PATHS);
	iscsi_target_wipe(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_path_without_multipath),
		cmocka_unit_test(test_every_path_with_multipath),
		cmocka_unit_test(test_lists_alone_and_defaults),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_chap_refusals_keep_the_secret),
		cmocka_unit_test(test_discovery_asked_for),
		cmocka_unit_test(test_discovered_portals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
