/* The backend interface: how a volume is opened and driven.
 *
 * A backend turns a Cinder connection_info object into something that can
 * serve I/O.  Every data operation is asynchronous: the caller fills in a
 * struct cb_io (usually embedded in its own request structure), submits it,
 * and the backend calls io->complete exactly once, from any thread, possibly
 * before submit() returns.  Synchronous backends simply complete inline;
 * librbd and libiscsi complete from their own event threads.
 *
 * Callers guarantee that offset + length lies within the volume, that
 * writes are not sent to a read-only backend, and that each op is only sent
 * when the matching capability is set.
 */
#ifndef CB_BACKEND_H
#define CB_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

enum cb_io_op {
	CB_IO_READ,
	CB_IO_WRITE,
	CB_IO_FLUSH,
	CB_IO_TRIM,
	CB_IO_WRITE_ZEROES,
	CB_IO_CACHE,		/* prefetch; completes without data */
};

/* Flags for struct cb_io.flags. */
#define CB_IO_FUA		(1u << 0)	/* write/trim/zero durable on completion */
#define CB_IO_MAY_TRIM		(1u << 1)	/* write_zeroes may deallocate */
#define CB_IO_FAST_ZERO		(1u << 2)	/* write_zeroes: fail with ENOTSUP rather than be slow */

struct cb_io {
	enum cb_io_op op;
	uint32_t flags;
	uint64_t offset;
	uint32_t length;
	void *buf;		/* READ: filled; WRITE: source; else unused */
	/* err is 0 or a positive errno value. */
	void (*complete)(struct cb_io *io, int err);
	struct cb_io *next;	/* private to the backend while in flight */
};

struct cb_backend_caps {
	uint64_t size;
	uint32_t block_min;	/* smallest unit of I/O the backend handles */
	uint32_t block_pref;	/* preferred I/O size */
	uint32_t block_max;	/* largest single request */
	/* The sector size the volume presents as a disk (what BLKSSZGET says
	 * of it): a block device over it (loop) must have the same, or its
	 * partition table and filesystems are misread.  0 means 512. */
	uint32_t logical_block_size;
	bool read_only;
	bool can_flush;
	bool can_fua;
	bool can_trim;
	bool can_zero;
	bool can_fast_zero;
	bool can_cache;
	bool can_extents;
	/* Data written through one handle is visible to reads through any
	 * other connection to the same backend once acknowledged: the
	 * condition for advertising NBD_FLAG_CAN_MULTI_CONN. */
	bool multi_conn;
	bool rotational;
};

struct cb_open_opts {
	bool read_only;
	bool direct_io;		/* bypass the host page cache where possible */
	/* rbd: a Ceph keyring file to take the user's key from, instead of
	 * connection_info's "keyring" or /etc/ceph/<cluster>.client.<user>.keyring. */
	const char *rbd_keyring;
};

/* Reports one extent; return non-zero to stop the walk. */
typedef int (*cb_extent_fn)(uint64_t offset, uint64_t length, bool hole, void *opaque);

struct cb_backend_ops {
	const char *name;
	/* NULL-terminated list of driver_volume_type values handled. */
	const char *const *volume_types;
	/* data is connection_info["data"].  Returns NULL and sets the error. */
	void *(*open)(const json_t *data, const struct cb_open_opts *opts);
	void (*get_caps)(void *handle, struct cb_backend_caps *caps);
	void (*submit)(void *handle, struct cb_io *io);
	/* Optional: synchronous allocation map of [offset, offset+length). */
	int (*extents)(void *handle, uint64_t offset, uint64_t length,
		       cb_extent_fn fn, void *opaque);
	/* Optional: a file descriptor from which [offset, offset+length) can
	 * be sent as it is, at the same offset, and now, without waiting for a
	 * disk; -1 when it cannot.  Lets a server send large reads with
	 * sendfile() instead of copying them through a buffer. */
	int (*read_fd)(void *handle, uint64_t offset, uint32_t length);
	/* Optional: a file descriptor to which [offset, offset+length) can be
	 * written as it is, at the same offset, into a cache (so it is quick
	 * and not durable: never for FUA); -1 when it cannot.  Lets a server
	 * splice() large payloads instead of copying them through a buffer. */
	int (*write_fd)(void *handle, uint64_t offset, uint32_t length);
	/* Waits for in-flight I/O, then releases everything. */
	void (*close)(void *handle);
};

struct cb_backend {
	const struct cb_backend_ops *ops;
	void *handle;
	struct cb_backend_caps caps;
};

/* Open the backend matching connection_info["driver_volume_type"]; the
 * connection_info is normalised (connection_info.h). */
struct cb_backend *cb_backend_open(const json_t *connection_info,
				   const struct cb_open_opts *opts);
void cb_backend_close(struct cb_backend *b);

static inline void cb_backend_submit(struct cb_backend *b, struct cb_io *io)
{
	b->ops->submit(b->handle, io);
}

static inline int cb_backend_read_fd(struct cb_backend *b, uint64_t offset, uint32_t length)
{
	return b->ops->read_fd ? b->ops->read_fd(b->handle, offset, length) : -1;
}

static inline int cb_backend_write_fd(struct cb_backend *b, uint64_t offset, uint32_t length)
{
	return b->ops->write_fd ? b->ops->write_fd(b->handle, offset, length) : -1;
}

/* Submit and wait: for callers that run on their own threads (FUSE). */
int cb_backend_io_sync(struct cb_backend *b, enum cb_io_op op, uint32_t flags,
		       uint64_t offset, uint32_t length, void *buf);

/* Every backend of this build, NULL-terminated. */
extern const struct cb_backend_ops *const cb_backends[];
extern const struct cb_backend_ops cb_file_backend;
extern const struct cb_backend_ops cb_rbd_backend;

#endif
