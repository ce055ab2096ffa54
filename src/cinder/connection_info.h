/* One shape for Cinder's connection_info.
 *
 * os-initialize_connection answers {"connection_info": {"driver_volume_type":
 * "rbd", "data": {...}}}, but the attachments API returns the same facts
 * FLAT: the data keys, driver_volume_type and attachment_id side by side.
 * The backends (src/backends) consume the nested form; this converts.
 */
#ifndef CB_CINDER_CONNECTION_INFO_H
#define CB_CINDER_CONNECTION_INFO_H

#include <jansson.h>

/* Accepts the nested form, the flat form, or either wrapped in
 * {"connection_info": ...}.  Returns a new object {"driver_volume_type":
 * ..., "data": {...}} (other top-level keys of a nested input are kept;
 * every key of a flat input but driver_volume_type goes into data), or
 * NULL with the error set: EINVAL for a shape that is neither, ENODATA
 * for an empty object (an attachment made without a connector). */
json_t *cb_connection_info_normalize(const json_t *in);

#endif
