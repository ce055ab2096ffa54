/* Finding the Cinder endpoint: in a Keystone catalog, and from the URL
 * to the version root (for microversion discovery) and to the base of
 * the project's resources. */
#ifndef CB_CINDER_CATALOG_H
#define CB_CINDER_CATALOG_H

#include <jansson.h>

/* The block-storage service types, preferred first: the official name
 * (service-types-authority), then the aliases older clouds register. */
extern const char *const cb_volume_service_types[];

/* The URL of the first endpoint of the first service type in `types`
 * (NULL-terminated) that has one with this interface ("public",
 * "internal", "admin") and, if region is not NULL, this region (matched
 * against region_id and region).  Returns a malloc'ed string, or NULL
 * with ENOENT and a message naming what the catalog does have. */
char *cb_catalog_endpoint(const json_t *catalog, const char *const *types,
			  const char *interface, const char *region);

/* Splits a volume endpoint such as http://h:8776/v3/<project> (or a
 * template with %(project_id)s, or http://h:8776/v3, or a v2 URL, or a
 * bare http://h:8776) into *root, the URL before the version segment
 * ("http://h:8776", where GET lists the versions), and *base, the v3 URL
 * of the project ("http://h:8776/v3/<project>").  project_id fills
 * templates and is appended when the URL has none; NULL leaves the
 * project out (Cinder allows that from 3.67).  -1 with EINVAL on a URL
 * that is not http(s). */
int cb_volume_endpoint_split(const char *url, const char *project_id,
			     char **root, char **base);

#endif
