/* The backend interface: how a volume is opened and driven.
 *
 * A backend turns a Cinder connection_info object into something that can
 * serve I/O.  Every data operation is asynchronous: the caller fills in a
 * struct cb_io (usually embedded in its own request structure), submits it,
 * and the backend calls io->complete exactly once, from any thread, possibly
 * before submit() returns.  Synchronous backends simply complete inline;
 * librbd and libiscsi complete from their own event threads.  The
 * allocation map is a request like the others (CB_IO_EXTENTS): for a
 * network backend it is a round trip, which must not stall the submitter.
 *
 * Callers guarantee that offset + length lies within the volume, that
 * writes are not sent to a read-only backend, and that each op is only sent
 * when the matching capability is set (can_extents for CB_IO_EXTENTS).
 */
#ifndef CB_BACKEND_H
#define CB_BACKEND_H

#include <poll.h>
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
	CB_IO_EXTENTS,		/* allocation map, reported through io->extent */
};

/* Flags for struct cb_io.flags. */
#define CB_IO_FUA		(1u << 0)	/* write/trim/zero durable on completion */
#define CB_IO_MAY_TRIM		(1u << 1)	/* write_zeroes may deallocate */
#define CB_IO_FAST_ZERO		(1u << 2)	/* write_zeroes: fail with ENOTSUP rather than be slow */
#define CB_IO_ONE_EXTENT	(1u << 3)	/* extents: only the first one is wanted */

struct cb_io {
	enum cb_io_op op;
	uint32_t flags;
	uint64_t offset;
	uint32_t length;
	void *buf;		/* READ: filled; WRITE: source; else unused */
	/* EXTENTS: reports [offset, offset+length) as runs of data or holes
	 * (which read as zeroes), in order, each starting where the last one
	 * ended and the first at io->offset.  Called from the thread that
	 * runs the request (the submitter's, when the backend answers inline;
	 * else one of its own), never concurrently for one request, and every
	 * call returns before complete is called.  Returning non-zero ends the
	 * walk, and the request completes with 0.  A backend may stop short of
	 * the end (a client asks again for the rest), but one that completes
	 * with 0 has reported at least one extent. */
	int (*extent)(struct cb_io *io, uint64_t offset, uint64_t length, bool hole);
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
	bool can_extents;	/* submit takes CB_IO_EXTENTS */
	/* Data written through one handle is visible to reads through any
	 * other connection to the same backend once acknowledged: the
	 * condition for advertising NBD_FLAG_CAN_MULTI_CONN. */
	bool multi_conn;
	bool rotational;
};

struct cb_open_opts {
	bool read_only;
	bool direct_io;		/* bypass the host page cache where possible */
	/* The connector's flags: use every path the connection_info lists
	 * (iSCSI's target_portals), and with enforce, refuse to open with
	 * fewer than two of them working. */
	bool multipath;
	bool enforce_multipath;
	/* Acknowledge a write only once it is durable, not from a cache of
	 * this process: set when what is served outlives the process
	 * (/dev/nbdN, which a reattach serves again), where a cache lost in
	 * a crash would lose acknowledged writes without an error, the
	 * kernel's FLUSH being sent again to the new server. */
	bool durable_writes;
	/* Backend-specific settings, or NULL: a JSON object of strings keyed
	 * "<backend>.<name>", e.g. {"rbd.keyring": "/etc/ceph/x.keyring"}.
	 * Each backend reads its own (cb_backend_option) and ignores the
	 * others', so one set can serve volumes of any type; keys no backend
	 * declares are refused (cb_backend_options_check).  Read during
	 * open() only: the caller may free them once it returns. */
	const json_t *options;
};

/* One setting a backend takes in cb_open_opts.options. */
struct cb_backend_option {
	const char *name;	/* without the "<backend>." prefix */
	const char *help;	/* one line, for --help and error messages */
	bool secret;		/* never echoed: not in messages, logs or argv */
	bool path;		/* names a file: relative to the opener's directory */
};

struct cb_backend_ops {
	const char *name;
	/* NULL-terminated list of driver_volume_type values handled. */
	const char *const *volume_types;
	/* The settings open() reads from cb_open_opts.options, terminated by
	 * a NULL name; NULL for none. */
	const struct cb_backend_option *options;
	/* data is connection_info["data"].  Returns NULL and sets the error. */
	void *(*open)(const json_t *data, const struct cb_open_opts *opts);
	void (*get_caps)(void *handle, struct cb_backend_caps *caps);
	void (*submit)(void *handle, struct cb_io *io);
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
	/* Optional: poll(2) on fds for a thread that has nothing else to do
	 * until one is ready, which meanwhile drives the backend's own I/O
	 * when it may (completions then run on it, sparing the wake-ups of
	 * handing work between threads).  Returns as poll() does, counting
	 * only the caller's fds; at most 4 of them. */
	int (*poll)(void *handle, struct pollfd *fds, int n, int timeout_ms);
	/* Optional: the thread will not call poll soon (it stops, or there
	 * are other clients it must not keep waiting). */
	void (*poll_leave)(void *handle);
	/* Optional: the volume's size now, asked anew, for a volume grown
	 * while open (Cinder's extend of an attached volume).  0, or -1 with
	 * the error set. */
	int (*current_size)(void *handle, uint64_t *size);
	/* Optional: the state of each path to the volume now, for a backend
	 * with several (iSCSI multipath): a new JSON array of objects, or
	 * NULL.  Callable from any thread. */
	json_t *(*paths)(void *handle);
	/* Waits for in-flight I/O, then releases everything. */
	void (*close)(void *handle);
};

struct cb_backend {
	const struct cb_backend_ops *ops;
	void *handle;
	/* caps.size grows (cb_backend_grow) while others read it: read it
	 * with cb_backend_size(). */
	struct cb_backend_caps caps;
};

/* Open the backend matching connection_info["driver_volume_type"]; the
 * connection_info is normalised (connection_info.h). */
struct cb_backend *cb_backend_open(const json_t *connection_info,
				   const struct cb_open_opts *opts);
void cb_backend_close(struct cb_backend *b);

/* 0 when options is NULL or an object whose every key is "<backend>.<name>"
 * for a backend of this build and an option it declares, with a string
 * value (non-empty for a path); else -1 with EINVAL and a message that
 * names the key and what its backend takes, never the value.  Lets a
 * caller reject a typo before it contacts anything; cb_backend_open
 * checks again. */
int cb_backend_options_check(const json_t *options);
/* The declaration of key ("rbd.keyring"), or NULL with the error set as
 * by cb_backend_options_check; *ops (if not NULL) is its backend. */
const struct cb_backend_option *cb_backend_option_find(const char *key,
							const struct cb_backend_ops **ops);
/* For backends: the value of ops's option name ("keyring") in o, or NULL
 * when it is not given. */
const char *cb_backend_option(const struct cb_open_opts *o, const struct cb_backend_ops *ops,
			      const char *name);
/* For backends: option name as a whole number of seconds from 1 to max,
 * or dflt when it is not given; -1 with EINVAL and a message naming the
 * option and the range otherwise. */
int cb_backend_option_seconds(const struct cb_open_opts *o, const struct cb_backend_ops *ops,
			      const char *name, unsigned dflt, unsigned max, unsigned *seconds);

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

static inline json_t *cb_backend_paths(struct cb_backend *b)
{
	return b->ops->paths ? b->ops->paths(b->handle) : NULL;
}

static inline bool cb_backend_can_poll(const struct cb_backend *b)
{
	return b->ops->poll != NULL;
}

static inline int cb_backend_poll(struct cb_backend *b, struct pollfd *fds, int n,
				  int timeout_ms)
{
	return b->ops->poll ? b->ops->poll(b->handle, fds, n, timeout_ms)
			    : poll(fds, (nfds_t)n, timeout_ms);
}

static inline void cb_backend_poll_leave(struct cb_backend *b)
{
	if (b->ops->poll_leave)
		b->ops->poll_leave(b->handle);
}

static inline uint64_t cb_backend_size(const struct cb_backend *b)
{
	return __atomic_load_n(&b->caps.size, __ATOMIC_RELAXED);
}

/* Asks the backend for the volume's size now and, when it grew, makes it
 * the size served.  0 with *size the new size (maybe the old one); -1
 * with the error set when the backend cannot tell, or when the volume
 * shrank, which no filesystem on it would survive: the size served stays. */
int cb_backend_grow(struct cb_backend *b, uint64_t *size);

/* Submit and wait: for callers that run on their own threads (FUSE). */
int cb_backend_io_sync(struct cb_backend *b, enum cb_io_op op, uint32_t flags,
		       uint64_t offset, uint32_t length, void *buf);

/* Every backend of this build, NULL-terminated. */
extern const struct cb_backend_ops *const cb_backends[];
extern const struct cb_backend_ops cb_file_backend;
extern const struct cb_backend_ops cb_rbd_backend;
extern const struct cb_backend_ops cb_nfs_backend;
extern const struct cb_backend_ops cb_iscsi_backend;

#endif
