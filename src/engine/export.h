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

#include <limits.h>
#include <stdbool.h>

#include <jansson.h>

#include "exports/kernel_nbd.h"

/* The volume as /dev/nbdN, served to the kernel's own NBD client. */
struct cb_kernel_nbd_opts {
	int index;			/* N of /dev/nbdN; -1: a free one */
	/* With reattach, index names a device whose server died: it is
	 * handed the new server's sockets, if its identifier matches. */
	bool reattach;
	int connections;		/* 0: one per CPU, up to 4, when coherent */
	/* Seconds; 0 takes the defaults below. */
	unsigned io_timeout;
	unsigned dead_conn_timeout;
	/* Kept by the kernel (/sys/block/nbdN/backend): what a reattach
	 * checks before serving the device again. */
	const char *identifier;
	enum kernel_nbd_interface interface;
};

/* How long the kernel keeps a device whose server died, with its requests
 * waiting, for a reattach to serve it again. */
#define CB_NBD_DEFAULT_DEAD_CONN_TIMEOUT 30
/* How long a request may take before the kernel gives up on its
 * connection: above the reattach window and above the backends' own
 * worst case (rbd's 30 s operation timeout), so a slow backend never
 * costs a connection. */
#define CB_NBD_DEFAULT_IO_TIMEOUT 60

/* How long a stop waits for the requests in flight when the storage does
 * not answer, in seconds: long enough for a healthy backend's last writes
 * and flush, short enough that a user whose storage is gone gets the
 * device back. */
#define CB_EXPORT_DEFAULT_STOP_GRACE 10

struct cb_export_opts {
	/* Nested, flat or wrapped: normalised here. */
	const json_t *connection_info;
	/* Backend-specific options, e.g. {"rbd.keyring": PATH}; may be NULL. */
	const json_t *backend_options;
	bool read_only;
	bool direct_io;
	/* Use every path the connection_info lists (iSCSI); with enforce,
	 * refuse fewer than two working. */
	bool multipath, enforce_multipath;
	/* "unix:PATH" or "tcp:HOST:PORT" (HOST empty: 127.0.0.1), or NULL. */
	const char *nbd;
	const char *export_name;	/* the only NBD name accepted; NULL: any */
	/* The FUSE file: MOUNTPOINT itself when it is an empty regular file,
	 * else MOUNTPOINT/disk; NULL for none. */
	const char *fuse;
	bool loop;			/* a loop device over the FUSE file */
	const struct cb_kernel_nbd_opts *kernel_nbd;	/* NULL for none */
};

struct cb_export;

/* Everything asked for, ready; NULL with the error set, nothing left. */
struct cb_export *cb_export_start(const struct cb_export_opts *o);
/* The NBD URI (nbd+unix:///NAME?socket=PATH, nbd://HOST:PORT/NAME), the
 * FUSE file and the block device (/dev/loopN or /dev/nbdN); NULL for what
 * is not served. */
const char *cb_export_nbd_uri(const struct cb_export *x);
const char *cb_export_fuse_file(const struct cb_export *x);
const char *cb_export_device(const struct cb_export *x);
/* Whether the block device is the kernel's NBD client's, not a loop. */
bool cb_export_device_is_nbd(const struct cb_export *x);
/* After the volume grew (Cinder's extend): asks the backend for its size
 * and grows every endpoint to it, the block device last.  0 with *size the
 * size now served; -1 with the error set (EINVAL when the volume shrank:
 * refused, nothing changed). */
int cb_export_grow(struct cb_export *x, uint64_t *size);
/* Writes the backend's paths (cb_backend_paths: iSCSI multipath) as JSON
 * to file, atomically, when they differ from *last (the caller keeps it,
 * NULL at first); nothing for a backend without paths.  For whoever
 * reports on the export from another process (list). */
void cb_export_publish_paths(const struct cb_export *x, const char *file, json_t **last);
/* Lets go of the block device, the step that can be refused: -1 with
 * EBUSY, the device still served, while it is mounted or held open. */
int cb_export_release_device(struct cb_export *x);
/* Stops and frees everything (x may be NULL).  -1 with the error set
 * when the device could not be released or the final flush failed. */
int cb_export_stop(struct cb_export *x);

/* A stop waits for the backend: for the requests in flight, the final
 * flush, the kernel's own flush of the device.  When the storage does not
 * answer, that wait never ends; cb_export_abort() ends it from another
 * thread, with what the plan holds: copies of what it needs, so that
 * nothing it uses can be freed under it by the stop it cuts short. */
struct cb_export_abort_plan {
	char fuse_mountpoint[PATH_MAX];	/* "" for none */
	char nbd_socket[PATH_MAX];	/* the NBD Unix socket's path; "" */
	int nbd_index;			/* N of /dev/nbdN; -1 for none */
	enum kernel_nbd_interface nbd_interface;
	/* The server's ends of /dev/nbdN's sockets: descriptors of the
	 * plan's own. */
	int socks[KERNEL_NBD_MAX_CONNECTIONS];
	int nsocks;
};
/* Takes the plan of x, before its stop.  0, or -1 with the error set. */
int cb_export_abort_plan(const struct cb_export *x, struct cb_export_abort_plan *p);
/* Closes the plan's descriptors, once the stop it was for has ended. */
void cb_export_abort_plan_clear(struct cb_export_abort_plan *p);
/* For a process that is about to exit (_exit) while its stop waits on
 * storage that does not answer: the requests still waiting fail with EIO
 * (the FUSE connection is cut, /dev/nbdN disconnected without a flush),
 * so that the block device goes away as on any stop, the FUSE mount and
 * the NBD socket with it.  Waits for no backend; the export is unusable
 * after it. */
void cb_export_abort(const struct cb_export_abort_plan *p);

/* Whether s is a valid NBD endpoint ("unix:PATH", "tcp:HOST:PORT"). */
bool cb_export_nbd_endpoint_valid(const char *s);

#endif
