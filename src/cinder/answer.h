/* Checks of the JSON documents Cinder and Keystone answer with.
 *
 * An answer is input from the network: a member may be missing or of
 * another type, and an ID may be empty or hold a path ("../x") that
 * would end up in a file name.  Each check fails with EPROTO and a
 * message that starts with `what` (the call: "get volume X"), names the
 * member by its path in the answer ("volume.status") and says what it
 * found instead ("is a number, not a string"), so that the user reads
 * what the server sent rather than a later symptom of it.
 *
 * `at` is the path of obj in the answer, for messages: NULL for the
 * answer itself, else e.g. "volume" or "attachments[2]".
 */
#ifndef CB_CINDER_ANSWER_H
#define CB_CINDER_ANSWER_H

#include <stdbool.h>

#include <jansson.h>

/* "an object", "an array", "a string", "a number", "true", "false",
 * "null", or "empty" for NULL (an answer without a body). */
const char *cb_json_kind(const json_t *j);

/* obj[key], which must be of the given type (JSON_TRUE stands for
 * either boolean).  Borrowed, or NULL with the error set; also when obj
 * itself is not an object. */
json_t *cb_answer_member(const json_t *obj, const char *at, const char *key,
			 json_type type, const char *what);

/* Like cb_answer_member, but a missing or null member is no error:
 * NULL with the error untouched and *bad false; a member of another
 * type sets the error and *bad. */
json_t *cb_answer_optional(const json_t *obj, const char *at, const char *key,
			   json_type type, const char *what, bool *bad);

/* obj[key], which must be an ID: 1 to 64 letters, digits, '-' or '_'
 * (Cinder's and Keystone's are UUIDs or hex).  Borrowed. */
const char *cb_answer_id(const json_t *obj, const char *at, const char *key,
			 const char *what);

bool cb_is_id(const char *s);

#endif
