/* The serving process of one attachment: `cinder-brick export` run as a
 * daemon of its own.
 *
 * A separate process rather than a fork of local-attach: the export
 * command already daemonises only once ready (so its exit status is the
 * answer), tears down in the right order on SIGTERM and refuses to while
 * the loop device is mounted.  The connection_info goes to its stdin,
 * never argv or a file: it may hold a Ceph keyring.
 */
#ifndef CB_CLI_SERVE_H
#define CB_CLI_SERVE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct served {
	pid_t pid;
	char fuse_file[4096];
	char device[64];
};

struct serve_opts {
	const char *dir;		/* the volume's state directory */
	bool read_only;
	const char *rbd_keyring;	/* or NULL */
};

/* Starts serving connection_info ci as a FUSE file plus loop device.
 * 0, or -1 with the error set (the export's own message went to stderr). */
int serve_start(const json_t *ci, const struct serve_opts *o, struct served *out);
/* Whether pid is still the export serving fuse_file (not a reused pid). */
bool serve_alive(pid_t pid, const char *fuse_file);
/* SIGTERM and a wait for the exit; the export flushes and detaches the
 * loop device itself.  -1 with EBUSY, changing nothing, while the device
 * is mounted or held open. */
int serve_stop(pid_t pid, const char *fuse_file, const char *device);
/* After the export died: detach its loop device (device, or with device
 * "" whichever loop device is over fuse_file) and unmount its FUSE file
 * if they are still there. */
void serve_cleanup(const char *fuse_file, const char *device);

#endif
