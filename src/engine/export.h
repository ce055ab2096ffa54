/* Serving one volume: its backend, opened from the connection_info, and
 * the endpoints that make it reachable: NBD sockets, a FUSE file, a loop
 * device over that file.  What `cinder-brick export` runs, and the serving
 * helper of every attachment.
 *
 * Stopping goes in reverse, the block device first, so that its last
 * writes reach the backend before anything below it goes away; the
 * backend is flushed last.
 */
#ifndef CB_ENGINE_EXPORT_H
#define CB_ENGINE_EXPORT_H

#include <stdbool.h>

#include <jansson.h>

struct cb_export_opts {
	/* Nested, flat or wrapped: normalised here. */
	const json_t *connection_info;
	/* Backend-specific options, e.g. {"rbd.keyring": PATH}; may be NULL. */
	const json_t *backend_options;
	bool read_only;
	bool direct_io;
	/* "unix:PATH" or "tcp:HOST:PORT" (HOST empty: 127.0.0.1), or NULL. */
	const char *nbd;
	const char *export_name;	/* the only NBD name accepted; NULL: any */
	/* The FUSE file: MOUNTPOINT itself when it is an empty regular file,
	 * else MOUNTPOINT/disk; NULL for none. */
	const char *fuse;
	bool loop;			/* a loop device over the FUSE file */
};

struct cb_export;

/* Everything asked for, ready; NULL with the error set, nothing left. */
struct cb_export *cb_export_start(const struct cb_export_opts *o);
/* The NBD URI (nbd+unix:///NAME?socket=PATH, nbd://HOST:PORT/NAME), the
 * FUSE file and the block device; NULL for what is not served. */
const char *cb_export_nbd_uri(const struct cb_export *x);
const char *cb_export_fuse_file(const struct cb_export *x);
const char *cb_export_device(const struct cb_export *x);
/* Lets go of the block device, the step that can be refused: -1 with
 * EBUSY, the device still served, while it is mounted or held open. */
int cb_export_release_device(struct cb_export *x);
/* Stops and frees everything (x may be NULL).  -1 with the error set
 * when the device could not be released or the final flush failed. */
int cb_export_stop(struct cb_export *x);

/* Whether s is a valid NBD endpoint ("unix:PATH", "tcp:HOST:PORT"). */
bool cb_export_nbd_endpoint_valid(const char *s);

#endif
