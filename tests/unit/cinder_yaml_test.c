/* Unit tests of the YAML reader (src/cinder/yaml_json.c): scalars as
 * PyYAML reads them, anchors and merge keys, and the errors a broken
 * file gets. */
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

#include "cinder/yaml_json.h"
#include "lib/error.h"

/* The tree as compact JSON with sorted keys, to compare in one go. */
static void assert_tree(const char *yaml, const char *want)
{
	json_t *j = cb_yaml_load_string(yaml, "test");
	char *text;

	if (!j)
		fail_msg("%s", cb_get_error());
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	assert_string_equal(text, want);
	free(text);
	json_decref(j);
}

static void assert_error(const char *yaml, int errnum, const char *text)
{
	assert_null(cb_yaml_load_string(yaml, "bad.yaml"));
	assert_int_equal(cb_get_errno(), errnum);
	if (!strstr(cb_get_error(), text))
		fail_msg("\"%s\" is not in: %s", text, cb_get_error());
}

static void test_scalars(void **state)
{
	/* Booleans and nulls as PyYAML reads them; numbers stay text. */
	assert_tree("a: yes\nb: Off\nc: ~\nd:\ne: 'true'\nf: 0042\ng: 3.70\n"
		    "h: \"x y\"\ni: [1, two]\nj: {k: v}\nk: !!str on\nl: NULL\n",
		    "{\"a\":true,\"b\":false,\"c\":null,\"d\":null,\"e\":\"true\","
		    "\"f\":\"0042\",\"g\":\"3.70\",\"h\":\"x y\",\"i\":[\"1\",\"two\"],"
		    "\"j\":{\"k\":\"v\"},\"k\":\"on\",\"l\":null}");
}

static void test_block_styles(void **state)
{
	assert_tree("list:\n  - name: a\n    size: 1\n  - b\ntext: |\n  two\n  lines\n"
		    "folded: >\n  one\n  line\n",
		    "{\"folded\":\"one line\\n\",\"list\":[{\"name\":\"a\",\"size\":\"1\"},"
		    "\"b\"],\"text\":\"two\\nlines\\n\"}");
}

static void test_anchors_and_merge(void **state)
{
	/* Explicit keys beat merged ones, whatever their order. */
	assert_tree("base: &b\n  auth_url: http://k\n  region_name: R1\n"
		    "clouds:\n"
		    "  one:\n    region_name: R2\n    <<: *b\n"
		    "  two:\n    auth: *b\n",
		    "{\"base\":{\"auth_url\":\"http://k\",\"region_name\":\"R1\"},"
		    "\"clouds\":{\"one\":{\"auth_url\":\"http://k\",\"region_name\":\"R2\"},"
		    "\"two\":{\"auth\":{\"auth_url\":\"http://k\",\"region_name\":\"R1\"}}}}");
}

static void test_merge_list_and_quoted_key(void **state)
{
	/* Earlier mappings of a merge list win; a quoted "<<" is a key. */
	assert_tree("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
		    "c:\n  <<: [*a, *b]\n  '<<': literal\n",
		    "{\"a\":{\"x\":\"1\",\"y\":\"1\"},\"b\":{\"y\":\"2\",\"z\":\"2\"},"
		    "\"c\":{\"<<\":\"literal\",\"x\":\"1\",\"y\":\"1\",\"z\":\"2\"}}");
}

static void test_documents(void **state)
{
	/* An empty file holds nothing, not an error; only the first
	 * document counts; a top level need not be a mapping. */
	assert_tree("", "{}");
	assert_tree("---\na: 1\n---\nb: 2\n", "{\"a\":\"1\"}");
	assert_tree("- x\n- y\n", "[\"x\",\"y\"]");
}

static void test_errors(void **state)
{
	assert_error("a: [1, 2\nb: c\n", EINVAL, "bad.yaml: line");
	assert_error("? [a, b]\n: c\n", EINVAL, "mapping keys must be strings");
	assert_error("a: *nope\n", EINVAL, "unknown anchor");
	/* A node cannot alias itself: the anchor is not known inside it. */
	assert_error("a: &x [1, *x]\n", EINVAL, "line 1 column 11: alias of an unknown anchor");
	assert_error("a:\n  <<: plain\n", EINVAL, "\"<<\" must merge mappings");
	assert_error("a:\n  <<: [*x]\n", EINVAL, "unknown anchor");
	assert_error("a: \"unterminated\n", EINVAL, "bad.yaml: line");
}

static void test_depth_limit(void **state)
{
	char deep[400];
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "[");
	snprintf(deep + n, sizeof deep - n, "x");
	assert_error(deep, EINVAL, "nested too deeply");
}

static void test_files(void **state)
{
	char path[] = "/tmp/cb-yaml-test-XXXXXX";
	int fd = mkstemp(path);
	json_t *j;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "k: v\n", 5), 5);
	close(fd);
	j = cb_yaml_load_file(path);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "k")), "v");
	json_decref(j);
	unlink(path);
	assert_null(cb_yaml_load_file("/nonexistent/clouds.yaml"));
	assert_int_equal(cb_get_errno(), ENOENT);
	assert_non_null(strstr(cb_get_error(), "/nonexistent/clouds.yaml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_block_styles),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_merge_list_and_quoted_key),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
