/* Unit tests of the Cinder client's pure helpers: microversions, fault
 * text, secret masking, retry policy.
 * The JSON samples are the lab's real answers (shared/reference/lab.md). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/fault.h"
#include "cinder/http.h"
#include "cinder/mask.h"
#include "cinder/microversion.h"
#include "lib/error.h"
#include "lib/log.h"
#include "unit_json.h"

/* ---- microversions ---- */

static void test_microversion_parse(void **state)
{
	struct cb_microversion mv;

	assert_int_equal(cb_microversion_parse("3.44", &mv), 0);
	assert_int_equal(mv.major, 3);
	assert_int_equal(mv.minor, 44);
	assert_int_equal(cb_microversion_parse("3.0", &mv), 0);
	assert_int_equal(mv.minor, 0);
	static const char *const bad[] = {
		"", "3", "3.", ".4", "3.4.5", "v3.4", " 3.4", "3.4 ", "-3.4",
		"3.x", "latest", "99999999999.1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(cb_microversion_parse(bad[i], &mv), -1);
		assert_int_equal(cb_get_errno(), EINVAL);
	}
}

static void test_microversion_cmp(void **state)
{
	/* Numeric, not textual: 3.9 < 3.10 < 3.44 < 3.70 < 4.0. */
	assert_true(cb_microversion_cmp(CB_MV(3, 9), CB_MV(3, 10)) < 0);
	assert_true(cb_microversion_cmp(CB_MV(3, 44), CB_MV(3, 10)) > 0);
	assert_true(cb_microversion_cmp(CB_MV(3, 70), CB_MV(4, 0)) < 0);
	assert_int_equal(cb_microversion_cmp(CB_MV(3, 27), CB_MV(3, 27)), 0);
}

/* GET / on the lab's Cinder answers 300 with this. */
static const char versions_doc[] =
	"{\"versions\": [{\"id\": \"v3.0\", \"status\": \"CURRENT\","
	" \"version\": \"3.70\", \"min_version\": \"3.0\","
	" \"updated\": \"2022-08-31T00:00:00Z\", \"links\": [{\"rel\": \"self\","
	" \"href\": \"http://127.0.0.1:8776/v3/\"}]}]}";

static void test_microversion_from_doc(void **state)
{
	struct cb_microversion mv;
	json_t *doc = parse(versions_doc);

	assert_int_equal(cb_microversion_max_from_doc(doc, 3, &mv), 0);
	assert_int_equal(mv.major, 3);
	assert_int_equal(mv.minor, 70);
	assert_int_equal(cb_microversion_max_from_doc(doc, 2, &mv), -1);
	assert_int_equal(cb_get_errno(), ENOENT);
	json_decref(doc);

	/* GET /v3/ form, and an old v2 entry without microversions next
	 * to it. */
	doc = parse("{\"version\": {\"id\": \"v3.0\", \"version\": \"3.27\"}}");
	assert_int_equal(cb_microversion_max_from_doc(doc, 3, &mv), 0);
	assert_int_equal(mv.minor, 27);
	json_decref(doc);
	doc = parse("{\"versions\": [{\"id\": \"v2.0\", \"version\": \"\"},"
		    " {\"id\": \"v3.0\", \"version\": \"3.59\"}]}");
	assert_int_equal(cb_microversion_max_from_doc(doc, 2, &mv), 0);
	assert_int_equal(mv.major, 2);
	assert_int_equal(mv.minor, 0);
	assert_int_equal(cb_microversion_max_from_doc(doc, 3, &mv), 0);
	assert_int_equal(mv.minor, 59);
	json_decref(doc);
}

/* Odd answers at the version root say what is odd about them. */
static void test_microversion_odd_docs(void **state)
{
	static const struct { const char *doc; int errnum; const char *text; } cases[] = {
		{ "[]", EPROTO, "not a version document" },
		{ "{\"versions\": {}}", EPROTO, "not a version document" },
		{ "{\"versions\": []}", ENOENT, "lists no API v3" },
		{ "{\"versions\": [{\"id\": \"v3.0\", \"version\": 3.7}]}", EPROTO,
		  "entry v3.0 has a \"version\" that is not 3.Y" },
		{ "{\"versions\": [{\"id\": \"v3.0\", \"version\": \"4.1\"}]}", EPROTO,
		  "entry v3.0" },
		{ "{\"version\": {\"id\": \"v3.0\", \"version\": \"x\"}}", EPROTO,
		  "entry v3.0" },
	};
	struct cb_microversion mv;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *doc = parse(cases[i].doc);

		assert_int_equal(cb_microversion_max_from_doc(doc, 3, &mv), -1);
		assert_int_equal(cb_get_errno(), cases[i].errnum);
		if (!strstr(cb_get_error(), cases[i].text))
			fail_msg("%s: \"%s\" not in: %s", cases[i].doc, cases[i].text,
				 cb_get_error());
		json_decref(doc);
	}
}

/* ---- fault text ---- */

static void check_fault(const char *body, const char *expected)
{
	char *text = cb_fault_text(body, strlen(body));

	if (!expected) {
		assert_null(text);
		return;
	}
	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
}

static void test_fault_shapes(void **state)
{
	/* Cinder, from the lab (os-attach with "instance_uuid": null). */
	check_fault("{\"badRequest\": {\"code\": 400, \"message\": \"Invalid input for "
		    "field/attribute instance_uuid. Value: None. None is not of type "
		    "'string'\"}}",
		    "badRequest: Invalid input for field/attribute instance_uuid. "
		    "Value: None. None is not of type 'string'");
	check_fault("{\"itemNotFound\": {\"code\": 404, \"message\": \"Volume "
		    "abc could not be found.\"}}",
		    "itemNotFound: Volume abc could not be found.");
	/* Keystone: its fault key says nothing, so only the message. */
	check_fault("{\"error\": {\"code\": 401, \"title\": \"Unauthorized\", "
		    "\"message\": \"The request you have made requires authentication.\"}}",
		    "The request you have made requires authentication.");
	check_fault("{\"error\": \"plain string\"}", "plain string");
	check_fault("{\"message\": \"bare\"}", "bare");
	/* Unknown JSON shape: shown whole, secrets masked. */
	check_fault("{\"odd\": 1, \"password\": \"hunter2\"}",
		    "{\"odd\":1,\"password\":\"***\"}");
}

static void test_fault_text_bodies(void **state)
{
	check_fault("<html><head><title>503 Service Unavailable</title></head>\n"
		    "<body><h1>Service   Unavailable</h1></body></html>",
		    "503 Service Unavailable Service Unavailable");
	/* webob's plain-text error pages. */
	check_fault("404 Not Found\n\nThe resource could not be found.\n\n   ",
		    "404 Not Found The resource could not be found.");
	check_fault("", NULL);
	check_fault("  \n ", NULL);
	assert_null(cb_fault_text(NULL, 0));
}

static void test_fault_long_text_is_cut(void **state)
{
	char body[2000];
	char *text;

	memset(body, 'x', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	text = cb_fault_text(body, strlen(body));
	assert_non_null(text);
	assert_true(strlen(text) <= 400);
	assert_string_equal(text + strlen(text) - 3, "...");
	free(text);
}

/* ---- masking ---- */

static void test_mask_keys(void **state)
{
	static const char *const secret[] = {
		"password", "Password", "auth_password", "discovery_auth_password",
		"secret", "application_credential_secret", "keyring", "token",
		"X-Auth-Token", "x-subject-token", "X-Service-Token",
	};
	static const char *const open[] = {
		"secret_uuid", "secret_type", "auth_username", "name", "id",
		"tokens", "OpenStack-API-Version", "Content-Type",
	};

	for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
		assert_true(cb_mask_is_secret_key(secret[i]));
	for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
		assert_false(cb_mask_is_secret_key(open[i]));
}

static void check_masked(const char *in, const char *expected)
{
	json_t *j = parse(in);
	char *text = cb_mask_dump(j);

	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
	/* cb_mask_dump works on a copy. */
	text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text, in);
	free(text);
	json_decref(j);
}

static void test_mask_json(void **state)
{
	/* Keystone password and token requests. */
	check_masked("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":"
		     "{\"user\":{\"name\":\"demo\",\"domain\":{\"id\":\"default\"},"
		     "\"password\":\"demo-pw\"}}}}}",
		     "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":"
		     "{\"user\":{\"name\":\"demo\",\"domain\":{\"id\":\"default\"},"
		     "\"password\":\"***\"}}}}}");
	check_masked("{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":"
		     "{\"id\":\"gAAAAAB\"}},\"scope\":{\"project\":{\"id\":\"p1\"}}}}",
		     "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":"
		     "{\"id\":\"***\"}},\"scope\":{\"project\":{\"id\":\"p1\"}}}}");
	check_masked("{\"application_credential\":{\"id\":\"ac1\",\"secret\":\"s3\"}}",
		     "{\"application_credential\":{\"id\":\"ac1\",\"secret\":\"***\"}}");
	/* Keystone's answer: the catalog stays readable, nested ids too. */
	check_masked("{\"token\":{\"project\":{\"id\":\"p1\"},\"catalog\":[{\"type\":"
		     "\"volumev3\"}]}}",
		     "{\"token\":{\"project\":{\"id\":\"p1\"},\"catalog\":[{\"type\":"
		     "\"volumev3\"}]}}");
	/* connection_info: keyring and CHAP, in arrays too; null stays null. */
	check_masked("[{\"data\":{\"keyring\":\"[client.cinder]\\n\\tkey = AQD\","
		     "\"auth_password\":\"chap\",\"secret_uuid\":\"5c26\","
		     "\"discovery_auth_password\":null}}]",
		     "[{\"data\":{\"keyring\":\"***\",\"auth_password\":\"***\","
		     "\"secret_uuid\":\"5c26\",\"discovery_auth_password\":null}}]");
}

static void test_mask_body_and_header(void **state)
{
	const char body[] = "{\"password\": \"pw\", \"n\": 1}";
	char *s;

	s = cb_mask_body(body, strlen(body));
	assert_string_equal(s, "{\"password\":\"***\",\"n\":1}");
	free(s);
	s = cb_mask_body("<html>oops</html>", 17);
	assert_string_equal(s, "<html>oops</html>");
	free(s);
	s = cb_mask_header("X-Auth-Token: gAAAAABsecret");
	assert_string_equal(s, "X-Auth-Token: ***");
	free(s);
	s = cb_mask_header("OpenStack-API-Version: volume 3.70");
	assert_string_equal(s, "OpenStack-API-Version: volume 3.70");
	free(s);
	s = cb_mask_header("Expect:");
	assert_string_equal(s, "Expect:");
	free(s);
}

/* ---- HTTP policy ---- */

static void test_retry_policy(void **state)
{
	/* 503 and unreachable servers: always. */
	assert_true(cb_http_should_retry("POST", CURLE_OK, 503));
	assert_true(cb_http_should_retry("GET", CURLE_COULDNT_CONNECT, 0));
	assert_true(cb_http_should_retry("POST", CURLE_COULDNT_CONNECT, 0));
	/* Lost answers: only when repeating is harmless. */
	assert_true(cb_http_should_retry("GET", CURLE_RECV_ERROR, 0));
	assert_true(cb_http_should_retry("DELETE", CURLE_GOT_NOTHING, 0));
	assert_false(cb_http_should_retry("POST", CURLE_RECV_ERROR, 0));
	assert_false(cb_http_should_retry("POST", CURLE_OPERATION_TIMEDOUT, 0));
	/* Never 4xx, other 5xx, successes, or TLS failures. */
	for (long s = 400; s < 500; s++)
		assert_false(cb_http_should_retry("GET", CURLE_OK, s));
	assert_false(cb_http_should_retry("GET", CURLE_OK, 500));
	assert_false(cb_http_should_retry("GET", CURLE_OK, 200));
	assert_false(cb_http_should_retry("GET", CURLE_PEER_FAILED_VERIFICATION, 0));
}

static void test_status_errno(void **state)
{
	assert_int_equal(cb_http_status_errno(400), EINVAL);
	assert_int_equal(cb_http_status_errno(401), EACCES);
	assert_int_equal(cb_http_status_errno(403), EPERM);
	assert_int_equal(cb_http_status_errno(404), ENOENT);
	assert_int_equal(cb_http_status_errno(409), EBUSY);
	assert_int_equal(cb_http_status_errno(413), EDQUOT);
	assert_int_equal(cb_http_status_errno(503), EAGAIN);
	assert_int_equal(cb_http_status_errno(500), EIO);
}

static void test_url_escape(void **state)
{
	char *s = cb_url_escape("my vol/1?&=é~._-");

	assert_string_equal(s, "my%20vol%2F1%3F%26%3D%C3%A9~._-");
	free(s);
	s = cb_url_escape("");
	assert_string_equal(s, "");
	free(s);
}

static char last_warning[1024];

static void capture(enum cb_log_level level, const char *msg, void *opaque)
{
	if (level == CB_LOG_WARNING)
		snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void test_insecure_warns(void **state)
{
	struct cb_http_opts opts = { .insecure = true };
	struct cb_http *h;

	cb_set_log_fn(capture, NULL);
	last_warning[0] = '\0';
	h = cb_http_new(&opts);
	assert_non_null(h);
	assert_non_null(strstr(last_warning, "verification is disabled"));
	cb_http_free(h);
	last_warning[0] = '\0';
	opts.insecure = false;
	h = cb_http_new(&opts);
	assert_string_equal(last_warning, "");
	cb_http_free(h);
	cb_set_log_fn(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_microversion_parse),
		cmocka_unit_test(test_microversion_cmp),
		cmocka_unit_test(test_microversion_from_doc),
		cmocka_unit_test(test_microversion_odd_docs),
		cmocka_unit_test(test_fault_shapes),
		cmocka_unit_test(test_fault_text_bodies),
		cmocka_unit_test(test_fault_long_text_is_cut),
		cmocka_unit_test(test_mask_keys),
		cmocka_unit_test(test_mask_json),
		cmocka_unit_test(test_mask_body_and_header),
		cmocka_unit_test(test_retry_policy),
		cmocka_unit_test(test_status_errno),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_insecure_warns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
