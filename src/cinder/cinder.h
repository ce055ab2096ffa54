/* A Cinder v3 client: the calls that attaching a volume to a host needs.
 *
 * cb_cinder_open() authenticates (or not, for noauth; or reuses a token
 * from cfg->token_cache_dir: token_cache.h), finds the volume
 * endpoint, and negotiates the microversion that every later request
 * carries: the server's maximum, capped at CB_CINDER_MV_PREFERRED (the
 * newest this code was tried against, so a newer Cinder cannot change a
 * response shape under us), or exactly the configured volume_api_version.
 *
 * A handle is not thread-safe.  Calls that return json_t give a new
 * reference, or NULL with the error set (lib/error.h); int calls return
 * 0 or -1.  Errors quote Cinder's or Keystone's own message and the HTTP
 * status; cb_get_errno() tells ENOENT (404), EACCES (401), EBUSY (409),
 * EINVAL (400), ENOTSUP (a microversion too old) and so on.  When Cinder
 * rejects the token (expired, revoked: 401) the client drops it from the
 * token cache and authenticates again once, except with auth type token,
 * where it has nothing to do it with.
 *
 * Never sends instance_uuid: this is a host attach, and Cinder refuses
 * to detach an attachment with an instance it cannot confirm with Nova.
 */
#ifndef CB_CINDER_CINDER_H
#define CB_CINDER_CINDER_H

#include <stdint.h>

#include <jansson.h>

#include "microversion.h"
#include "os_config.h"

#define CB_CINDER_MV_PREFERRED CB_MV(3, 70)
#define CB_CINDER_MV_ATTACHMENTS CB_MV(3, 27)	/* create, update, get, list, delete */
#define CB_CINDER_MV_COMPLETE CB_MV(3, 44)	/* os-complete */
#define CB_CINDER_MV_ATTACH_MODE CB_MV(3, 54)	/* "mode" in attachment create */

struct cb_cinder;

/* cfg must be resolved (cb_os_config_resolve); it is copied. */
struct cb_cinder *cb_cinder_open(const struct cb_os_config *cfg);
void cb_cinder_close(struct cb_cinder *c);

struct cb_microversion cb_cinder_microversion(const struct cb_cinder *c);
struct cb_microversion cb_cinder_max_microversion(const struct cb_cinder *c);
/* The v3 URL of the project, e.g. http://h:8776/v3/<project_id>. */
const char *cb_cinder_endpoint(const struct cb_cinder *c);
const char *cb_cinder_project_id(const struct cb_cinder *c);

/* ---- volumes ---- */

json_t *cb_cinder_volume_get(struct cb_cinder *c, const char *volume_id);
/* By ID, else by exact name.  ENOENT if none; ENOTUNIQ, with the IDs,
 * if several volumes have that name. */
json_t *cb_cinder_volume_find(struct cb_cinder *c, const char *id_or_name);

struct cb_volume_spec {
	uint64_t size_gib;
	const char *name;		/* optional */
	const char *volume_type;	/* optional: the default type */
	const char *availability_zone;	/* optional */
};

/* Returns the new volume, still "creating". */
json_t *cb_cinder_volume_create(struct cb_cinder *c, const struct cb_volume_spec *spec);
int cb_cinder_volume_delete(struct cb_cinder *c, const char *volume_id);
/* Polls until the volume has `status`; fails early on an error_* status
 * and with ETIMEDOUT after timeout_ms.  Returns the volume. */
json_t *cb_cinder_volume_wait(struct cb_cinder *c, const char *volume_id,
			      const char *status, unsigned int timeout_ms);
/* Polls until the volume is gone (404). */
int cb_cinder_volume_wait_deleted(struct cb_cinder *c, const char *volume_id,
				  unsigned int timeout_ms);

/* ---- attachments API (microversion >= 3.27) ----
 * The returned attachment's connection_info is FLAT: the data plane's
 * cb_connection_info_normalize() (backends/connection_info.h) nests it. */

/* connector may be NULL (the volume is only reserved); mode "rw", "ro"
 * or NULL.  "ro" needs 3.54; "rw" is the default and is not sent below
 * 3.54, where the body may not have "mode". */
json_t *cb_cinder_attachment_create(struct cb_cinder *c, const char *volume_id,
				    const json_t *connector, const char *mode);
/* Gives a reserved attachment its connector. */
json_t *cb_cinder_attachment_update(struct cb_cinder *c, const char *attachment_id,
				    const json_t *connector);
/* os-complete (3.44): the volume becomes in-use. */
int cb_cinder_attachment_complete(struct cb_cinder *c, const char *attachment_id);
int cb_cinder_attachment_delete(struct cb_cinder *c, const char *attachment_id);
json_t *cb_cinder_attachment_get(struct cb_cinder *c, const char *attachment_id);
/* An array of the volume's attachments (detail view). */
json_t *cb_cinder_attachment_list(struct cb_cinder *c, const char *volume_id);

/* ---- legacy volume actions ---- */

int cb_cinder_volume_reserve(struct cb_cinder *c, const char *volume_id);
int cb_cinder_volume_unreserve(struct cb_cinder *c, const char *volume_id);
/* Returns the answer's connection_info as Cinder sent it (nested);
 * cb_connection_info_normalize() checks it. */
json_t *cb_cinder_initialize_connection(struct cb_cinder *c, const char *volume_id,
					const json_t *connector);
/* os-attach with host_name, never instance_uuid; mode "rw" or "ro". */
int cb_cinder_volume_attach(struct cb_cinder *c, const char *volume_id,
			    const char *host_name, const char *mountpoint,
			    const char *mode);
int cb_cinder_volume_begin_detaching(struct cb_cinder *c, const char *volume_id);
int cb_cinder_volume_roll_detaching(struct cb_cinder *c, const char *volume_id);
int cb_cinder_terminate_connection(struct cb_cinder *c, const char *volume_id,
				   const json_t *connector);
/* attachment_id may be NULL when the volume has one attachment. */
int cb_cinder_volume_detach(struct cb_cinder *c, const char *volume_id,
			    const char *attachment_id);

#endif
