/* The human-readable text of an OpenStack error response.
 *
 * Users need the service's own words ("Volume X could not be found.",
 * "The request you have made requires authentication."), not just a
 * status code, so every error message the client builds includes this.
 */
#ifndef CB_CINDER_FAULT_H
#define CB_CINDER_FAULT_H

#include <stddef.h>

/* Handles Cinder's {"<faultName>": {"code": N, "message": "..."}}
 * (badRequest, itemNotFound, ...), Keystone's {"error": {"message": ...}},
 * a bare {"message": ...}, and non-JSON bodies (proxy error pages: tags
 * dropped, whitespace collapsed).  Returns a malloc'ed string, or NULL
 * when the body has nothing to say (or on ENOMEM).  Long texts are cut. */
char *cb_fault_text(const char *body, size_t len);

#endif
