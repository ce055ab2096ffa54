/* For the unit tests (after <cmocka.h>): test JSON written inline. */
#ifndef CB_TESTS_UNIT_JSON_H
#define CB_TESTS_UNIT_JSON_H

#include <jansson.h>

/* Any JSON value; a typo in a test's own JSON fails that test. */
static inline json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON %s: %s", text, err.text);
	return j;
}

#endif
