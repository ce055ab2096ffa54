/* Private to the FUSE export: what its session (fuse_export.c) and its
 * request handlers (fuse_ops.c) share. */
#ifndef CB_FUSE_INTERNAL_H
#define CB_FUSE_INTERNAL_H

#define FUSE_USE_VERSION 35

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "backends/backend.h"

#define FX_DISK_NAME "disk"
#define FX_DISK_INO 2
#define FX_MAX_IO (1u << 20)
#define FX_BUF_ALIGN 4096

struct fuse_export {
	struct cb_backend *backend;
	struct cb_backend_caps caps;
	bool read_only;
	/* Write payloads stay in libfuse's pipe and are spliced into the
	 * backend's file descriptor: backends that offer one (write_fd). */
	bool splice_writes;
	uint32_t max_write;
	fuse_ino_t file_ino;		/* FUSE_ROOT_ID when mounted over a file */
	uid_t uid;
	gid_t gid;
	struct timespec started;
	uint32_t chunk_max;		/* block_max rounded down to block_min */
	/* Per worker thread (fx_buffer): buf_size bytes aligned to buf_align,
	 * freed by the key's destructor when the thread exits. */
	size_t buf_size;
	size_t buf_align;
	pthread_key_t buf_key;
	bool buf_key_created;
	struct fuse_session *se;
	pthread_t thread;
	/* O_PATH fd of the FUSE root: the way stop() reaches our own
	 * filesystem even if the mount was lazily detached by someone else. */
	int wake_fd;
	/* Thread id whose statfs request ends the session; -1 until stop(). */
	_Atomic pid_t stop_tid;
	char *file;
	char *mountpoint;
};

/* The request handlers, with the session as their userdata. */
extern const struct fuse_lowlevel_ops fx_ops;

#endif
