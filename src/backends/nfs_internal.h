/* The nfs backend's pieces: nfs.c (opening, the vtable), nfs_session.c
 * (the libnfs context: made, lost, made again) and nfs_io.c (requests:
 * sent, waiting for a session, re-sent, timed out).
 *
 * Everything below the volume's fixed fields is the event loop's: it is
 * touched only under the loop's lock, in the loop's callbacks.
 */
#ifndef CB_BACKENDS_NFS_INTERNAL_H
#define CB_BACKENDS_NFS_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "event_loop.h"
#include "inflight.h"

struct nfs_context;
struct nfsfh;

/* A request's place: the volume's lists are circular, with a head. */
struct nfs_link {
	struct nfs_link *prev, *next;
};

/* A piece of a request sent as one RPC (NFSv4 reads and writes are split
 * here: see NFS4_WRITE_MAX in nfs.c). */
struct nfs_part {
	struct nfs_req *req;
	uint32_t off, len;
};

/* One request between submit and completion; kept for reuse afterwards,
 * so the steady state does not allocate. */
struct nfs_req {
	struct nfs_link link;		/* in waiting, sent or spare */
	struct nfs_volume *v;
	struct cb_io *io;
	/* The context it was sent on, or NULL while it waits: a callback
	 * from any other context is of an attempt given up. */
	struct nfs_context *sent_on;
	uint64_t deadline_ms;		/* fails with EIO when still not done */
	unsigned parts_left;		/* RPCs of this attempt not yet back */
	int err;			/* the first final error of the attempt */
	bool again;			/* the attempt failed in a way worth a retry */
	struct nfs_part *parts;
	unsigned parts_cap;
};

enum nfs_session_state {
	NFS_SESSION_UP,			/* nfs and fh serve requests */
	NFS_SESSION_CONNECTING,		/* nfs is mounting and opening anew */
	NFS_SESSION_DOWN,		/* nothing until retry_at_ms */
};

struct nfs_volume {
	/* Fixed once open. */
	char host[256], export_path[1024], file[1280];
	int version;			/* 3 or 4 */
	bool read_only;
	uint64_t size;
	uint32_t read_max, write_max;	/* 0: no limit */
	unsigned io_timeout_ms;
	char where[512];		/* host:/path/name, for messages */
	struct cb_event_loop *loop;
	struct cb_inflight inflight;

	/* The loop's. */
	struct nfs_context *nfs;
	struct nfsfh *fh;
	enum nfs_session_state state;
	bool broken;			/* nfs failed: retire it outside libnfs */
	uint64_t retry_at_ms, connect_deadline_ms;
	unsigned backoff_ms;
	unsigned attempts;		/* of the current outage */
	uint64_t down_since_ms;
	char last_error[256];		/* why the session went down */
	unsigned unsent;		/* RPCs queued since the last service */
	/* Opening: set until the first session is up or failed. */
	bool opening;
	pthread_mutex_t open_lock;
	pthread_cond_t open_done;
	int open_err;
	char open_error[1536];
	struct nfs_link waiting, sent, spare;
};

/* nfs_session.c */
/* Starts mounting and opening, before the loop runs; once it runs,
 * nfs_session_wait_open() waits for the outcome: open_err, open_error. */
void nfs_session_open(struct nfs_volume *v);
void nfs_session_wait_open(struct nfs_volume *v);
/* The context failed (why: for the log): it is retired once libnfs has
 * returned, and a new one made.  Callable from libnfs's callbacks. */
void nfs_session_broken(struct nfs_volume *v, const char *why);
/* After nfs_service() and on every tick: retires a broken context,
 * starts and times out reconnects, sends what waits. */
void nfs_session_run(struct nfs_volume *v, uint64_t now);
/* On every tick (not per service call: it walks every request): fails
 * the requests past their deadline. */
void nfs_session_expire(struct nfs_volume *v, uint64_t now);
/* The context's descriptor and events, when there is one to wait on. */
int nfs_session_poll_fd(struct nfs_volume *v, struct pollfd *p);
void nfs_session_close(struct nfs_volume *v);

/* nfs_io.c */
void nfs_io_init(struct nfs_volume *v);
/* Takes a request from the NBD or FUSE side (under the loop's lock). */
void nfs_io_submit(struct nfs_volume *v, struct cb_io *io);
/* Sends every waiting request on the session now up. */
void nfs_io_resend(struct nfs_volume *v);
/* The session is gone: what was sent on it waits for the next one. */
void nfs_io_requeue_sent(struct nfs_volume *v);
/* Fails every request past its deadline that is not on a live session
 * (those are failed by retiring the session: see nfs_session_run).
 * Returns whether one that is on the session is past it. */
bool nfs_io_expire(struct nfs_volume *v, uint64_t now);
/* Frees the spare requests once nothing is in flight. */
void nfs_io_free(struct nfs_volume *v);

#endif
