/* Cinder's connection_info: the contract between the control plane
 * (src/cinder, src/engine) and the data plane (src/backends).
 *
 * os-initialize_connection answers {"connection_info": {"driver_volume_type":
 * "rbd", "data": {...}}}, but the attachments API returns the same facts
 * FLAT: the data keys, driver_volume_type and attachment_id side by side.
 * This module is the one place that unwraps, normalises and checks either
 * form, and says which backend opens it.  It is network input: nothing
 * here trusts its shape.
 */
#ifndef CB_BACKENDS_CONNECTION_INFO_H
#define CB_BACKENDS_CONNECTION_INFO_H

#include <stddef.h>

#include <jansson.h>

struct cb_backend_ops;

/* Accepts the nested form, the flat form, or either wrapped in
 * {"connection_info": ...}.  Returns a new object {"driver_volume_type":
 * ..., "data": {...}} (other top-level keys of a nested input are kept;
 * every key of a flat input but driver_volume_type goes into data), or
 * NULL with the error set: EINVAL for a shape that is neither, ENODATA
 * for an empty object (an attachment made without a connector). */
json_t *cb_connection_info_normalize(const json_t *in);

/* The fields of a normalised connection_info (borrowed). */
const char *cb_connection_info_type(const json_t *ci);
const json_t *cb_connection_info_data(const json_t *ci);

/* The backend for ci's driver_volume_type, or NULL with ENOTSUP and a
 * message that names the types this build can open. */
const struct cb_backend_ops *cb_connection_info_backend(const json_t *ci);

/* "local, rbd": the driver_volume_types this build can open, for messages. */
const char *cb_backend_type_list(void);

#endif
