/* The iscsi backend's parts: iscsi.c opens and closes a volume,
 * iscsi_path.c keeps each path's session up, iscsi_io.c runs requests on
 * them.  Everything after open runs under the volume's event loop lock
 * (event_loop.c), so none of it locks, except the in-flight count that
 * close waits on.
 */
#ifndef CB_BACKENDS_ISCSI_INTERNAL_H
#define CB_BACKENDS_ISCSI_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "event_loop.h"
#include "inflight.h"
#include "iscsi_target.h"
#include "lib/clock.h"

struct iscsi_context;
struct scsi_task;

enum iscsi_path_state {
	PATH_DOWN,		/* waiting for retry_at_ms to log in again */
	PATH_CONNECTING,	/* an asynchronous login is under way */
	PATH_UP,
	PATH_FAILED,		/* broken: torn down once its callbacks return */
};

struct iscsi_path {
	struct iscsi_volume *v;
	const struct iscsi_path_address *addr;
	struct iscsi_context *ctx;	/* NULL while DOWN */
	enum iscsi_path_state state;
	unsigned inflight;		/* requests sent on it */
	unsigned unsent;		/* PDUs queued since it was last serviced */
	unsigned failed_logins;		/* since it was last up: the backoff */
	uint64_t retry_at_ms;
	uint64_t since_ms;		/* when it entered its state */
	uint64_t ping_ms;		/* when it was last pinged */
	char error[512];		/* why it last went down */
};

struct iscsi_req;

/* WRITE_ZEROES without a hole writes this much at a time. */
#define ISCSI_ZEROES_SIZE (1u << 20)

struct iscsi_volume {
	struct iscsi_target target;
	char initiator[224];
	struct iscsi_path paths[ISCSI_MAX_PATHS];
	unsigned n_paths;
	struct cb_event_loop *loop;
	/* What the LUN said of itself at open. */
	uint64_t size;
	uint32_t block_size;
	uint32_t max_xfer;		/* bytes per READ/WRITE; 0: no limit */
	uint32_t max_unmap;		/* blocks per UNMAP descriptor */
	uint32_t max_ws;		/* blocks per WRITE SAME */
	bool read_only, can_unmap, ws_unmap, can_extents;
	unsigned io_timeout_ms;		/* how long a request waits for a path */
	void *zeroes;			/* ISCSI_ZEROES_SIZE of them, for WRITE_ZEROES */
	/* Requests waiting for a path, oldest first, and the free ones. */
	struct iscsi_req *wait_head, *wait_tail, *free_reqs;
	struct iscsi_req_chunk *chunks;
	unsigned next_path;		/* round robin among equals */
	struct iscsi_path *polled[CB_EVENT_LOOP_MAX_FDS];	/* whose pollfd is which */
	struct cb_inflight inflight;	/* submitted, not yet completed */
	/* What the paths' states were at their last change, for readers on
	 * other threads (iscsi_paths_json). */
	pthread_mutex_t shown_lock;
	struct iscsi_path_view {
		bool up;
		time_t since;		/* when it went up or down: wall clock */
		char error[512];
	} shown[ISCSI_MAX_PATHS];
};

/* iscsi_discovery.c */
/* SendTargets discovery on t's first portal (with t's discovery CHAP
 * credentials, if any) as initiator: every portal it lists for t's IQN
 * becomes a path.  0, or -1 with the error set (naming the portal and
 * the cause, never the password), t unchanged. */
int iscsi_discover(struct iscsi_target *t, const char *initiator);

/* iscsi_path.c */
/* A context that logs in as initiator to the target iqn, or NULL for a
 * discovery session, with chap's credentials if not NULL; its login's
 * connect and PDUs time out, and it never reconnects by itself.  NULL if
 * libiscsi refuses. */
struct iscsi_context *iscsi_new_context(const char *initiator, const char *iqn,
					const struct iscsi_chap *chap);
/* Logs in on p's portal, synchronously (at open).  0, or -1 with the
 * error set (naming the portal and the cause) and p DOWN. */
int iscsi_path_login_sync(struct iscsi_path *p);
/* p broke (why: the library's words): its requests go back to wait for a
 * path, it is torn down after the current callbacks, and logs in again
 * with bounded backoff. */
void iscsi_path_fail(struct iscsi_path *p, const char *why);
/* Tears down every FAILED path: after each library call that may have
 * failed one, outside its callbacks. */
void iscsi_paths_reap(struct iscsi_volume *v);
/* Keep-alive pings, and logins again when due: every tick. */
void iscsi_paths_tick(struct iscsi_volume *v);
int iscsi_paths_poll_fds(struct iscsi_volume *v, struct pollfd *p, struct iscsi_path **of);
void iscsi_paths_service(struct iscsi_volume *v, struct pollfd *p, struct iscsi_path **of,
			 int n);
unsigned iscsi_paths_up(const struct iscsi_volume *v);
/* Logs out of and frees every path's session. */
void iscsi_paths_close(struct iscsi_volume *v);
/* The paths as cb_backend_ops.paths reports them. */
json_t *iscsi_paths_json(struct iscsi_volume *v);

/* iscsi_io.c */
/* Under the loop's lock: a new request from cb_backend_submit. */
void iscsi_io_submit(struct iscsi_volume *v, struct cb_io *io);
/* Sends waiting requests on the paths that are up; fails those whose
 * I/O timeout passed. */
void iscsi_io_dispatch(struct iscsi_volume *v);
void iscsi_io_expire(struct iscsi_volume *v);
void iscsi_io_free_all(struct iscsi_volume *v);

#endif
