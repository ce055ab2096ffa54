/* The engine: attaching a Cinder volume to this host, and detaching it,
 * as library code the CLI, the C API and Python share.
 *
 * An engine handle knows where this host keeps its attachments (the state
 * directory), which helper program serves a volume, and which local paths
 * Cinder may hand out.  Attach reserves the volume in Cinder, asks for its
 * connection_info, starts a serving process (the helper) that opens the
 * volume in userspace and makes it a block device, records the attachment,
 * then completes it in Cinder; any failure undoes what was done, in
 * reverse.  Detach stops the serving process (which flushes and tears the
 * device down) before Cinder hears that the volume is free.
 *
 * Like the rest of libcinderbrick the engine never prints or exits: calls
 * return 0 or -1 (or NULL) with the error in lib/error.h; what it cannot
 * undo during a rollback is logged as a warning (lib/log.h).  A handle is
 * not thread-safe; use one per thread.
 */
#ifndef CB_ENGINE_H
#define CB_ENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "cinder/os_config.h"
#include "host/connector.h"

/* How the volume becomes a block device on this host. */
enum cb_export_kind {
	CB_EXPORT_AUTO,		/* nbd where the kernel has it, else fuse */
	CB_EXPORT_FUSE,		/* a FUSE file with a loop device over it */
	CB_EXPORT_NBD,		/* the kernel's NBD client: /dev/nbdN */
};

/* Where attachments are recorded unless told otherwise: on a tmpfs, so
 * that after a reboot, when nothing is attached, nothing is recorded. */
#define CB_ENGINE_STATE_DIR CB_RUNSTATEDIR "/cinder-brick"

struct cb_engine_opts {
	/* Where attachments are recorded; NULL: CB_ENGINE_STATE_DIR. */
	const char *state_dir;
	/* The serving helper program; NULL: $CINDER_BRICK_SERVE, else the
	 * installed one (pkglibexecdir/cinder-brick-serve). */
	const char *serve_helper;
	/* Path prefixes under which a "local" connection_info from Cinder may
	 * name a file or block device (NULL-terminated, may be NULL); the
	 * lines of local_paths_file are added.  Without any, Cinder's local
	 * paths are refused. */
	const char *const *local_paths;
	/* NULL: sysconfdir/cinder-brick/local-paths (absent is fine). */
	const char *local_paths_file;
};

struct cb_engine;

struct cb_engine *cb_engine_new(const struct cb_engine_opts *opts);
void cb_engine_free(struct cb_engine *e);

/* One attachment of a volume to this host, as the state directory
 * records it.  Never holds connection_info or any secret. */
struct cb_attachment {
	char volume_id[64];
	char attachment_id[64];		/* "" until known (legacy flow) */
	char flow[8];			/* "v3" or "legacy" */
	char microversion[16];		/* "3.70" */
	char backend[32];		/* driver_volume_type */
	char export_kind[8];		/* "fuse" or "nbd" */
	char mode[4];			/* "rw" or "ro" */
	char device[64];		/* /dev/loopN or /dev/nbdN */
	char fuse_file[PATH_MAX];	/* "" for nbd */
	/* nbd: what the kernel keeps in /sys/block/nbdN/backend (the
	 * attachment id; the volume id in the legacy flow, where the
	 * attachment has no id yet when the device is made), and the
	 * timeouts it was given, in seconds, which a reattach gives again. */
	char nbd_identifier[64];
	unsigned io_timeout;
	unsigned dead_conn_timeout;
	/* Seconds the serving process's stop waits for the storage (a
	 * reattach gives it again); 0 in a record that predates it. */
	unsigned stop_grace;
	char mountpoint[PATH_MAX];	/* what legacy os-attach recorded */
	pid_t pid;			/* the serving process */
	json_t *connector;		/* what Cinder was given (owned) */
	/* --backend-option as given (owned; NULL for none), which a
	 * reattach opens the volume with again. */
	json_t *backend_options;
};

/* Health of an attachment, as list reports it. */
struct cb_attachment_health {
	bool alive;			/* the serving process runs */
	bool device_present;		/* the block device exists */
	/* Each path's state as the serving process last said (iSCSI
	 * multipath), or NULL. */
	json_t *paths;
};

void cb_attachment_clear(struct cb_attachment *a);
/* The record as a JSON object (a new reference): the state file's shape. */
json_t *cb_attachment_to_json(const struct cb_attachment *a);
const char *cb_attachment_health_text(const struct cb_attachment_health *h);

struct cb_attach_opts {
	const char *volume;		/* ID or unique name */
	const char *mode;		/* "rw" (NULL) or "ro" */
	enum cb_export_kind export_kind;
	/* nbd: seconds, 0 for the defaults (engine/export.h); sockets, 0 for
	 * as many as useful. */
	unsigned io_timeout;
	unsigned dead_conn_timeout;
	int connections;
	/* Seconds a stop of the serving process waits for the storage before
	 * it fails what still waits and lets go of the device; 0 for
	 * CB_EXPORT_DEFAULT_STOP_GRACE (engine/export.h). */
	unsigned stop_grace;
	const char *mountpoint;		/* for legacy os-attach; NULL: the device */
	struct cb_connector_opts connector;
	/* Backend-specific options handed to the serving process, e.g.
	 * {"rbd.keyring": PATH}; may be NULL. */
	const json_t *backend_options;
};

/* cfg must be resolved (cb_os_config_resolve).  On success fills out
 * (clear it with cb_attachment_clear). */
int cb_engine_attach(struct cb_engine *e, const struct cb_os_config *cfg,
		     const struct cb_attach_opts *o, struct cb_attachment *out);

struct cb_detach_opts {
	const char *volume;		/* ID or unique name */
	const char *attachment_id;	/* NULL: the recorded one, or the only one */
	/* Clean up after a serving process that died (stale state, leftover
	 * device), and kill one that does not exit.  Never forces a device
	 * that is mounted. */
	bool force;
};

/* Refuses with EBUSY, changing nothing, while the device is in use.
 * Waits for the serving process's stop, which its grace period bounds
 * (stop_grace) when the storage does not answer. */
int cb_engine_detach(struct cb_engine *e, const struct cb_os_config *cfg,
		     const struct cb_detach_opts *o);

struct cb_reattach_opts {
	const char *volume;		/* ID or unique name; NULL with all */
	bool all;			/* every recorded attachment that needs it */
};

/* Serves again the /dev/nbdN of an attachment whose serving process died,
 * within the device's dead-connection timeout: I/O waiting meanwhile then
 * completes.  The connection_info comes from Cinder again.  Refused when
 * the device serves another attachment (its backend identifier differs),
 * while the old serving process lives, and for FUSE exports (their mount
 * ends with the process).  With all, attachments that need nothing are
 * skipped, and the first failure is reported after trying every one. */
int cb_engine_reattach(struct cb_engine *e, const struct cb_os_config *cfg,
		       const struct cb_reattach_opts *o);

/* Grows the device of volume (ID or unique name), attached here, to the
 * size Cinder now gives it (after an extend of the in-use volume, which
 * Cinder tells no one when the attachment has no instance): the serving
 * process asks the backend for the volume's new size and grows every
 * layer, the block device last.  0 with *size the device's size in bytes;
 * -1 with EINVAL when Cinder's size is smaller than the device (shrinking
 * is refused), ETIMEDOUT when the device did not grow. */
int cb_engine_resize(struct cb_engine *e, const struct cb_os_config *cfg, const char *volume,
		     uint64_t *size);

/* Every attachment recorded here, with its health: arrays of *n
 * entries (free with cb_engine_list_free).  Makes no Cinder call. */
int cb_engine_list(struct cb_engine *e, struct cb_attachment **atts,
		   struct cb_attachment_health **health, size_t *n);
void cb_engine_list_free(struct cb_attachment *atts, struct cb_attachment_health *health,
			 size_t n);

#endif
