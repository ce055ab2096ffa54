/* Private to src/engine. */
#ifndef CB_ENGINE_INTERNAL_H
#define CB_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "cinder/cinder.h"
#include "engine.h"
#include "export.h"

struct cb_engine {
	char *state_dir;
	char *serve_helper;
	char **local_paths;		/* resolved prefixes */
	size_t nlocal_paths;
	char *local_paths_file;		/* more prefixes, read on first use */
	bool local_paths_file_optional;
	bool local_paths_file_loaded;
};

/* engine.c: a Cinder handle for cfg. */
struct cb_cinder *engine_cinder_open(struct cb_engine *e, const struct cb_os_config *cfg);
/* The first error of a failed sequence, kept while later steps (a
 * rollback) overwrite the thread's error. */
struct saved_error {
	int errnum;
	char msg[1024];
};
void error_save(struct saved_error *s);
void error_restore(const struct saved_error *s);

/* state.c: the attachment store, one JSON file per volume in the state
 * directory, next to a directory of the volume's own (0700) that holds its
 * FUSE file.  No secret is ever written there. */
int state_volume_dir(const struct cb_engine *e, const char *volume_id, char *buf,
		     size_t len);
/* The FUSE file of a volume: <state_dir>/<volume_id>/disk. */
int state_disk_path(const struct cb_engine *e, const char *volume_id, char *buf,
		    size_t len);
/* What the serving helper says of the volume's paths (iSCSI multipath):
 * <state_dir>/<volume_id>/paths.json. */
int state_paths_path(const struct cb_engine *e, const char *volume_id, char *buf,
		     size_t len);
/* 0, or -1 with ENOENT when nothing is recorded, or another error. */
int state_load(const struct cb_engine *e, const char *volume_id, struct cb_attachment *a);
int state_save(const struct cb_engine *e, const struct cb_attachment *a);
void state_remove(const struct cb_engine *e, const char *volume_id);
int state_list(const struct cb_engine *e, struct cb_attachment **atts, size_t *n);

/* attachment.c */
int attachment_from_json(const json_t *j, struct cb_attachment *a);
/* Copies s into a fixed-size field; -1 with EOVERFLOW when it does not fit. */
int field_set(char *dst, size_t len, const char *s, const char *what);
#define FIELD_SET(dst, s, what) field_set((dst), sizeof(dst), (s), (what))

/* local_policy.c: a "local" connection_info from Cinder names a path on
 * this host.  0 when that path may be served (its device_path is then
 * replaced by the resolved one); -1 with the reason.  Other types: 0. */
int local_policy_init(struct cb_engine *e, const struct cb_engine_opts *o);
int local_policy_check(struct cb_engine *e, json_t *ci);

/* device.c: the block device of an attachment. */
bool device_is_nbd(const struct cb_attachment *a);
/* N of its /dev/nbdN, or -1. */
int device_nbd_index(const struct cb_attachment *a);
/* Whether the device is still the attachment's: a loop device over its
 * FUSE file, or an nbd device connected with its identifier. */
bool device_attached(const struct cb_attachment *a);
/* Whether its /dev/nbdN is connected with another identifier. */
bool device_claimed_by_other(const struct cb_attachment *a);
/* Whether it is mounted or held open exclusively. */
bool device_busy(const struct cb_attachment *a);
/* Whether it is mounted, asked without opening it. */
bool device_mounted(const struct cb_attachment *a);
/* Its size in bytes as the kernel has it: 0 or -1. */
int device_size(const struct cb_attachment *a, uint64_t *size);
/* Lets go of the device of a dead serving process, if it is still there
 * (a->device "" looks a loop device up by the FUSE file). */
void device_cleanup(const struct cb_attachment *a);

/* serving.c: the serving process of an attachment. */
struct serve_request {
	const json_t *connection_info;
	const json_t *backend_options;
	bool read_only;
	bool multipath, enforce_multipath;	/* the connector's */
	const char *paths_file;		/* where the helper keeps its paths' state */
	unsigned stop_grace;		/* seconds; 0 for the default */
	const char *fuse_file;		/* a FUSE file and a loop device over it */
	/* or /dev/nbdN, identified by nbd->identifier */
	const struct cb_kernel_nbd_opts *nbd;
};
/* Starts the helper, which answers once the device exists: fills
 * a->pid, a->device, a->fuse_file (a->nbd_identifier must be set for
 * nbd: the process is known by it). */
int serving_start(const struct cb_engine *e, const struct serve_request *r,
		  struct cb_attachment *a);
bool serving_alive(const struct cb_attachment *a);
/* SIGTERM and a wait for the exit; the helper flushes and releases the
 * device itself, or, past its grace period (a->stop_grace), fails what
 * the storage did not answer and lets go of it.  -1 with EBUSY, changing
 * nothing, while the device is in use; ETIMEDOUT when the helper does not
 * exit (it was refused for another reason, or predates the bound). */
int serving_stop(const struct cb_attachment *a);
/* SIGKILL, then removes what the dead helper left (device, FUSE mount). */
void serving_kill(const struct cb_attachment *a);
/* After the helper died: releases its device and FUSE mount if they are
 * still there. */
void serving_cleanup(const struct cb_attachment *a);

#endif
