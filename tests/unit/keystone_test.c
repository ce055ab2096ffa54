/* Unit tests of Keystone request bodies, the catalog lookup of the
 * volume endpoint and the splitting of that endpoint's URL. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/catalog.h"
#include "cinder/os_config.h"
#include "cinder/keystone.h"
#include "lib/error.h"
#include "unit_json.h"

static void assert_json(json_t *actual, const char *expected)
{
	json_t *want = parse(expected);

	if (!json_equal(actual, want)) {
		char *got = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("got %s\nwant %s", got, expected);
	}
	json_decref(want);
	json_decref(actual);
}

static void config(struct cb_os_config *c, char **envp)
{
	cb_os_config_init(c);
	if (cb_os_config_resolve(c, envp) < 0)
		fail_msg("resolve: %s", cb_get_error());
}

/* ---- tokens URL and bodies ---- */

static void test_tokens_url(void **state)
{
	static const char *const cases[][2] = {
		{ "http://127.0.0.1:5000", "http://127.0.0.1:5000/v3/auth/tokens" },
		{ "http://127.0.0.1:5000/", "http://127.0.0.1:5000/v3/auth/tokens" },
		{ "http://127.0.0.1:5000/v3", "http://127.0.0.1:5000/v3/auth/tokens" },
		{ "http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/auth/tokens" },
		{ "https://cloud/identity", "https://cloud/identity/v3/auth/tokens" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *url = cb_keystone_tokens_url(cases[i][0]);

		assert_string_equal(url, cases[i][1]);
		free(url);
	}
}

static void test_password_body_by_names(void **state)
{
	char *envp[] = {
		"OS_AUTH_URL=http://k", "OS_USERNAME=demo", "OS_PASSWORD=pw",
		"OS_PROJECT_NAME=demo", "OS_USER_DOMAIN_NAME=Default", NULL,
	};
	struct cb_os_config c;

	config(&c, envp);
	assert_json(cb_keystone_auth_body(&c),
		    "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\":"
		    " {\"user\": {\"name\": \"demo\", \"domain\": {\"name\": \"Default\"},"
		    " \"password\": \"pw\"}}}, \"scope\": {\"project\": {\"name\": \"demo\","
		    " \"domain\": {\"id\": \"default\"}}}}}");
	cb_os_config_free(&c);
}

static void test_password_body_by_ids(void **state)
{
	/* IDs win over names when both are set (flags and clouds.yaml mix). */
	char *envp[] = {
		"OS_AUTH_URL=http://k", "OS_USER_ID=u1", "OS_USERNAME=demo",
		"OS_PASSWORD=pw", "OS_PROJECT_ID=p1", "OS_PROJECT_NAME=demo",
		"OS_PROJECT_DOMAIN_ID=d1", NULL,
	};
	struct cb_os_config c;

	config(&c, envp);
	assert_json(cb_keystone_auth_body(&c),
		    "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\":"
		    " {\"user\": {\"id\": \"u1\", \"password\": \"pw\"}}},"
		    " \"scope\": {\"project\": {\"id\": \"p1\"}}}}");
	cb_os_config_free(&c);
}

static void test_token_body(void **state)
{
	char *envp[] = {
		"OS_AUTH_URL=http://k", "OS_TOKEN=gAAA", "OS_PROJECT_NAME=demo",
		"OS_PROJECT_DOMAIN_NAME=Default", NULL,
	};
	struct cb_os_config c;

	config(&c, envp);
	assert_json(cb_keystone_auth_body(&c),
		    "{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\":"
		    " {\"id\": \"gAAA\"}}, \"scope\": {\"project\": {\"name\": \"demo\","
		    " \"domain\": {\"name\": \"Default\"}}}}}");
	cb_os_config_free(&c);
}

static void test_app_credential_bodies(void **state)
{
	char *by_id[] = {
		"OS_AUTH_URL=http://k", "OS_APPLICATION_CREDENTIAL_ID=ac1",
		"OS_APPLICATION_CREDENTIAL_SECRET=s3", "OS_PROJECT_NAME=ignored", NULL,
	};
	char *by_name[] = {
		"OS_AUTH_URL=http://k", "OS_APPLICATION_CREDENTIAL_NAME=backup",
		"OS_APPLICATION_CREDENTIAL_SECRET=s3", "OS_USERNAME=demo", NULL,
	};
	struct cb_os_config c;

	/* Application credentials carry their scope: none is sent. */
	config(&c, by_id);
	assert_json(cb_keystone_auth_body(&c),
		    "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"],"
		    " \"application_credential\": {\"id\": \"ac1\", \"secret\": \"s3\"}}}}");
	cb_os_config_free(&c);
	config(&c, by_name);
	assert_json(cb_keystone_auth_body(&c),
		    "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"],"
		    " \"application_credential\": {\"name\": \"backup\", \"secret\": \"s3\","
		    " \"user\": {\"name\": \"demo\", \"domain\": {\"id\": \"default\"}}}}}}");
	cb_os_config_free(&c);
}

/* ---- catalog ---- */

/* The lab's catalog (lab.md: cinderv3 = volumev3 and cinder =
 * block-storage, three interfaces each), plus a second region and an
 * old "volume" service elsewhere. */
static const char catalog_text[] =
	"[{\"type\": \"identity\", \"name\": \"keystone\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"RegionOne\","
	"   \"region\": \"RegionOne\", \"url\": \"http://127.0.0.1:5000/v3/\"}]},"
	" {\"type\": \"volumev3\", \"name\": \"cinderv3\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"RegionOne\", \"region\": \"RegionOne\","
	"   \"url\": \"http://127.0.0.1:8776/v3/p1\"},"
	"  {\"interface\": \"internal\", \"region_id\": \"RegionOne\", \"region\": \"RegionOne\","
	"   \"url\": \"http://internal:8776/v3/p1\"},"
	"  {\"interface\": \"public\", \"region_id\": \"RegionTwo\", \"region\": \"RegionTwo\","
	"   \"url\": \"http://two:8776/v3/p1\"}]},"
	" {\"type\": \"block-storage\", \"name\": \"cinder\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"RegionOne\", \"region\": \"RegionOne\","
	"   \"url\": \"http://bs:8776/v3/p1\"},"
	"  {\"interface\": \"admin\", \"region_id\": \"RegionOne\", \"region\": \"RegionOne\","
	"   \"url\": \"http://bs-admin:8776/v3/p1\"}]},"
	" {\"type\": \"volume\", \"name\": \"old\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"RegionThree\","
	"   \"url\": \"http://three:8776/v2/p1\"}]}]";

static void check_endpoint(const json_t *catalog, const char *interface,
			   const char *region, const char *expected)
{
	char *url = cb_catalog_endpoint(catalog, cb_volume_service_types, interface, region);

	if (!expected) {
		assert_null(url);
		assert_int_equal(cb_get_errno(), ENOENT);
		return;
	}
	if (!url)
		fail_msg("no endpoint: %s", cb_get_error());
	assert_string_equal(url, expected);
	free(url);
}

static void test_catalog_selection(void **state)
{
	json_t *catalog = parse(catalog_text);

	/* block-storage is preferred to its aliases. */
	check_endpoint(catalog, "public", NULL, "http://bs:8776/v3/p1");
	check_endpoint(catalog, "admin", "RegionOne", "http://bs-admin:8776/v3/p1");
	/* ... and the aliases fill in for what it lacks. */
	check_endpoint(catalog, "internal", NULL, "http://internal:8776/v3/p1");
	check_endpoint(catalog, "public", "RegionTwo", "http://two:8776/v3/p1");
	check_endpoint(catalog, "public", "RegionThree", "http://three:8776/v2/p1");
	check_endpoint(catalog, "internal", "RegionTwo", NULL);
	assert_non_null(strstr(cb_get_error(), "internal"));
	assert_non_null(strstr(cb_get_error(), "RegionTwo"));
	json_decref(catalog);
}

static void test_catalog_without_volume_service(void **state)
{
	json_t *catalog = parse("[{\"type\": \"identity\", \"endpoints\": []},"
				" {\"type\": \"compute\", \"endpoints\": []}]");
	static const char *const only_v3[] = { "volumev3", NULL };

	check_endpoint(catalog, "public", NULL, NULL);
	assert_non_null(strstr(cb_get_error(), "service type block-storage"));
	assert_non_null(strstr(cb_get_error(), "identity, compute"));
	json_decref(catalog);
	catalog = parse(catalog_text);
	assert_null(cb_catalog_endpoint(catalog, only_v3, "admin", NULL));
	json_decref(catalog);
	catalog = json_array();
	check_endpoint(catalog, "public", NULL, NULL);
	assert_non_null(strstr(cb_get_error(), "none"));
	json_decref(catalog);
}

/* ---- endpoint URLs ---- */

static void check_split(const char *url, const char *project, const char *root,
			const char *base)
{
	char *r, *b;

	if (cb_volume_endpoint_split(url, project, &r, &b) < 0)
		fail_msg("%s: %s", url, cb_get_error());
	assert_string_equal(r, root);
	assert_string_equal(b, base);
	free(r);
	free(b);
}

static void test_endpoint_split(void **state)
{
	check_split("http://127.0.0.1:8776/v3/84d9", "84d9",
		    "http://127.0.0.1:8776", "http://127.0.0.1:8776/v3/84d9");
	check_split("http://127.0.0.1:8776/v3/%(project_id)s", "p1",
		    "http://127.0.0.1:8776", "http://127.0.0.1:8776/v3/p1");
	check_split("http://h:8776/v3/$(tenant_id)s/", "p1", "http://h:8776",
		    "http://h:8776/v3/p1");
	/* A bare version or host gets the project appended. */
	check_split("http://h:8776/v3/", "p1", "http://h:8776", "http://h:8776/v3/p1");
	check_split("https://h", "p1", "https://h", "https://h/v3/p1");
	/* v2 URLs of an old "volume" service are turned into v3. */
	check_split("http://h:8776/v2/p1", "p1", "http://h:8776", "http://h:8776/v3/p1");
	/* A path prefix (devstack's /volume) is kept. */
	check_split("http://h/volume/v3/p1", "p1", "http://h/volume", "http://h/volume/v3/p1");
	check_split("http://h/v3x/v3.0/p", NULL, "http://h/v3x", "http://h/v3x/v3/p");
	/* No project: Cinder allows that from 3.67. */
	check_split("http://h:8776/v3", NULL, "http://h:8776", "http://h:8776/v3");
}

static void test_endpoint_split_errors(void **state)
{
	char *r, *b;

	assert_int_equal(cb_volume_endpoint_split("ftp://h/v3", "p", &r, &b), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_int_equal(cb_volume_endpoint_split("http://", "p", &r, &b), -1);
	assert_int_equal(cb_volume_endpoint_split("http://h/v3/%(project_id)s", NULL,
						  &r, &b), -1);
	assert_non_null(strstr(cb_get_error(), "needs a project ID"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_url),
		cmocka_unit_test(test_password_body_by_names),
		cmocka_unit_test(test_password_body_by_ids),
		cmocka_unit_test(test_token_body),
		cmocka_unit_test(test_app_credential_bodies),
		cmocka_unit_test(test_catalog_selection),
		cmocka_unit_test(test_catalog_without_volume_service),
		cmocka_unit_test(test_endpoint_split),
		cmocka_unit_test(test_endpoint_split_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
