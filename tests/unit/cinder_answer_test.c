/* Unit tests of the checks of Cinder's and Keystone's answers
 * (src/cinder/answer.c): each odd document gets EPROTO and a message that
 * names the call, the member and what was found instead. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/answer.h"
#include "lib/error.h"
#include "unit_json.h"

static void assert_error(const char *want)
{
	assert_int_equal(cb_get_errno(), EPROTO);
	if (strcmp(cb_get_error(), want) != 0)
		fail_msg("got:  %s\nwant: %s", cb_get_error(), want);
}

static void test_kinds(void **state)
{
	static const struct { const char *json, *kind; } cases[] = {
		{ "{}", "an object" }, { "[]", "an array" }, { "\"x\"", "a string" },
		{ "1", "a number" }, { "1.5", "a number" }, { "true", "true" },
		{ "false", "false" }, { "null", "null" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = parse(cases[i].json);

		assert_string_equal(cb_json_kind(j), cases[i].kind);
		json_decref(j);
	}
	assert_string_equal(cb_json_kind(NULL), "empty");
}

static void test_member(void **state)
{
	json_t *doc = parse("{\"volume\": {\"id\": \"v1\", \"size\": 1, \"ok\": true}}");
	json_t *vol = json_object_get(doc, "volume");

	assert_ptr_equal(cb_answer_member(doc, NULL, "volume", JSON_OBJECT, "get volume v1"),
			 vol);
	assert_non_null(cb_answer_member(vol, "volume", "size", JSON_INTEGER, "w"));
	assert_non_null(cb_answer_member(vol, "volume", "size", JSON_REAL, "w"));
	assert_non_null(cb_answer_member(vol, "volume", "ok", JSON_FALSE, "w"));

	assert_null(cb_answer_member(doc, NULL, "attachment", JSON_OBJECT, "get attachment a1"));
	assert_error("get attachment a1: the answer has no \"attachment\"");
	assert_null(cb_answer_member(vol, "volume", "status", JSON_STRING, "get volume v1"));
	assert_error("get volume v1: \"volume\" in the answer has no \"status\"");
	assert_null(cb_answer_member(vol, "volume", "size", JSON_STRING, "get volume v1"));
	assert_error("get volume v1: \"volume.size\" in the answer is a number, not a string");
	assert_null(cb_answer_member(doc, NULL, "volume", JSON_ARRAY, "list"));
	assert_error("list: \"volume\" in the answer is an object, not an array");
	assert_null(cb_answer_member(vol, "volume", "id", JSON_TRUE, "w"));
	assert_error("w: \"volume.id\" in the answer is a string, not a boolean");
	json_decref(doc);
}

static void test_not_an_object(void **state)
{
	json_t *arr = parse("[{\"volume\": {}}]"), *str = parse("\"volume\"");

	assert_null(cb_answer_member(arr, NULL, "volume", JSON_OBJECT, "get volume v1"));
	assert_error("get volume v1: the answer is an array, not a JSON object");
	assert_null(cb_answer_member(NULL, NULL, "volume", JSON_OBJECT, "get volume v1"));
	assert_error("get volume v1: the answer is empty, not a JSON object");
	assert_null(cb_answer_member(str, "attachments[3]", "id", JSON_STRING, "list"));
	assert_error("list: \"attachments[3]\" in the answer is a string, not an object");
	json_decref(arr);
	json_decref(str);
}

static void test_optional(void **state)
{
	json_t *doc = parse("{\"a\": [], \"n\": null, \"s\": \"x\"}");
	bool bad;

	assert_non_null(cb_answer_optional(doc, "v", "a", JSON_ARRAY, "w", &bad));
	assert_false(bad);
	assert_null(cb_answer_optional(doc, "v", "missing", JSON_ARRAY, "w", &bad));
	assert_false(bad);
	assert_null(cb_answer_optional(doc, "v", "n", JSON_ARRAY, "w", &bad));
	assert_false(bad);
	assert_null(cb_answer_optional(doc, "v", "s", JSON_ARRAY, "w", &bad));
	assert_true(bad);
	assert_error("w: \"v.s\" in the answer is a string, not an array");
	assert_null(cb_answer_optional(json_object_get(doc, "s"), "v", "a", JSON_ARRAY,
				       "w", &bad));
	assert_true(bad);
	json_decref(doc);
}

static void test_ids(void **state)
{
	json_t *doc = parse("{\"good\": \"0f3c6a6e-61a4-4b8e-9a41-3c2d4b5e6f70\","
			    " \"hex\": \"4b8e9a413c2d4b5e\", \"empty\": \"\","
			    " \"path\": \"../../etc/passwd\", \"space\": \"a b\","
			    " \"num\": 7}");
	char long_id[80];

	assert_string_equal(cb_answer_id(doc, "volume", "good", "w"),
			    "0f3c6a6e-61a4-4b8e-9a41-3c2d4b5e6f70");
	assert_non_null(cb_answer_id(doc, "volume", "hex", "w"));
	assert_null(cb_answer_id(doc, "volume", "empty", "get volume v1"));
	assert_error("get volume v1: \"volume.empty\" in the answer is not an ID "
		     "(1 to 64 letters, digits, '-' or '_')");
	assert_null(cb_answer_id(doc, "volume", "path", "w"));
	assert_int_equal(cb_get_errno(), EPROTO);
	assert_null(strstr(cb_get_error(), "passwd"));	/* not quoted back */
	assert_null(cb_answer_id(doc, "volume", "space", "w"));
	assert_null(cb_answer_id(doc, "volume", "num", "w"));
	assert_error("w: \"volume.num\" in the answer is a number, not a string");
	assert_null(cb_answer_id(doc, NULL, "none", "w"));
	assert_error("w: the answer has no \"none\"");

	memset(long_id, 'a', 64);
	long_id[64] = '\0';
	assert_true(cb_is_id(long_id));
	long_id[64] = 'a';
	long_id[65] = '\0';
	assert_false(cb_is_id(long_id));
	assert_false(cb_is_id("a/b"));
	assert_false(cb_is_id("a.b"));
	assert_false(cb_is_id("a\nb"));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
