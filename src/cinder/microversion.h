/* Cinder API microversions ("3.44").
 *
 * Every request carries "OpenStack-API-Version: volume X.Y"; the
 * attachments API needs 3.27 (create) and 3.44 (complete), attach modes
 * need 3.54.  The server advertises its maximum at its version root.
 */
#ifndef CB_CINDER_MICROVERSION_H
#define CB_CINDER_MICROVERSION_H

#include <jansson.h>

struct cb_microversion {
	int major;
	int minor;
};

#define CB_MV(a, b) ((struct cb_microversion){ .major = (a), .minor = (b) })

/* "3.44" -> {3, 44}.  Only digits, one dot, no sign or space.  Returns
 * -1 with EINVAL on anything else. */
int cb_microversion_parse(const char *s, struct cb_microversion *mv);

/* <0, 0, >0 like strcmp: 3.9 < 3.10. */
int cb_microversion_cmp(struct cb_microversion a, struct cb_microversion b);

/* The maximum microversion of API major version `major` in a version
 * document: {"versions": [...]} from GET / or {"version": {...}} from
 * GET /v3/.  An entry without microversions ("version": "") counts as
 * major.0.  Returns -1 with ENOENT if `major` is not listed, EPROTO if
 * doc is no version document or the entry of `major` has a version that
 * is not major.Y. */
int cb_microversion_max_from_doc(const json_t *doc, int major,
				 struct cb_microversion *max);

#endif
