/* The nfs backend's requests: each is sent on the session that is up, in
 * one RPC or in parts, and kept until it is answered.  One the session
 * could not answer (the connection dropped, the server restarted and
 * forgot its NFSv4 state, it asked us to wait) waits for the next
 * session and is sent again: reads and writes of a block are idempotent.
 * One still not answered after the I/O timeout fails with EIO.
 *
 * Everything here runs under the event loop's lock (see nfs_internal.h).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "nfs_internal.h"

static void link_init(struct nfs_link *l)
{
	l->prev = l->next = l;
}

static bool link_empty(const struct nfs_link *head)
{
	return head->next == head;
}

static void link_del(struct nfs_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

static void link_move_tail(struct nfs_link *head, struct nfs_link *l)
{
	link_del(l);
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static struct nfs_req *req_of(struct nfs_link *l)
{
	return (struct nfs_req *)(void *)l;	/* link is its first member */
}

void nfs_io_init(struct nfs_volume *v)
{
	link_init(&v->waiting);
	link_init(&v->sent);
	link_init(&v->spare);
}

static struct nfs_req *req_new(struct nfs_volume *v)
{
	struct nfs_req *r;

	if (!link_empty(&v->spare))
		return req_of(v->spare.next);
	r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->v = v;
	link_init(&r->link);
	link_move_tail(&v->spare, &r->link);
	return r;
}

static void finish(struct nfs_req *r, int err)
{
	struct nfs_volume *v = r->v;
	struct cb_io *io = r->io;

	r->io = NULL;
	r->sent_on = NULL;
	link_move_tail(&v->spare, &r->link);
	io->complete(io, err);
	cb_inflight_done(&v->inflight);
}

static void wait_for_session(struct nfs_req *r)
{
	r->sent_on = NULL;
	link_move_tail(&r->v->waiting, &r->link);
}

/* Errors that say the server holds our NFSv4 state no longer: a restart
 * (STALE_*), a lease that ran out while nothing was sent (EXPIRED: libnfs
 * 4.0 never renews one), state taken back.  GRACE: a restarted server
 * takes no new state until its grace period ends.  libnfs reports them
 * all as ERANGE, with the status's name in the message. */
static bool nfs4_state_lost(const char *msg)
{
	static const char *const names[] = {
		"NFS4ERR_STALE_CLIENTID", "NFS4ERR_STALE_STATEID", "NFS4ERR_OLD_STATEID",
		"NFS4ERR_BAD_STATEID", "NFS4ERR_EXPIRED", "NFS4ERR_ADMIN_REVOKED",
		"NFS4ERR_GRACE", "NFS4ERR_LEASE_MOVED", "NFS4ERR_FHEXPIRED",
	};

	for (size_t i = 0; msg && i < sizeof names / sizeof names[0]; i++)
		if (strstr(msg, names[i]))
			return true;
	return false;
}

/* An RPC of r failed with err: retried on a new session, retried on this
 * one, or final. */
static void rpc_failed(struct nfs_req *r, int err, const char *msg)
{
	struct nfs_volume *v = r->v;

	/* libnfs's own codes for an RPC that got no answer: the connection
	 * failed under it (EFAULT), or it was cancelled (EINTR). */
	if (err == EFAULT || err == EINTR || err == ESTALE ||
	    (v->version == 4 && err == ERANGE && nfs4_state_lost(msg))) {
		nfs_session_broken(v, msg);
		r->again = true;
	} else if (err == EAGAIN) {	/* NFS3ERR_JUKEBOX, NFS4ERR_DELAY */
		r->again = true;
	} else if (!r->err) {
		r->err = err;
		cb_log(CB_LOG_ERROR, "%s: %s: %s", v->where,
		       r->io->op == CB_IO_READ ? "read" : r->io->op == CB_IO_WRITE ? "write" :
		       "commit", msg ? msg : strerror(err));
	}
}

static void attempt_done(struct nfs_req *r)
{
	if (r->err)
		finish(r, r->err);
	else if (r->again)
		wait_for_session(r);
	else
		finish(r, 0);
}

static void rpc_done(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct nfs_part *p = arg;
	struct nfs_req *r = p->req;

	/* An attempt given up when its session was retired. */
	if (r->sent_on != nfs)
		return;
	if (status < 0) {
		rpc_failed(r, -status, data);
	} else if (r->io->op == CB_IO_READ) {
		uint32_t got = (uint32_t)status < p->len ? (uint32_t)status : p->len;

		memcpy((char *)r->io->buf + p->off, data, got);
		/* Past the end of a file that shrank behind us: zeroes. */
		memset((char *)r->io->buf + p->off + got, 0, p->len - got);
	} else if (r->io->op == CB_IO_WRITE && (uint32_t)status != p->len) {
		rpc_failed(r, EIO, "the server wrote less than asked");
	}
	if (--r->parts_left == 0)
		attempt_done(r);
}

static int send_part(struct nfs_volume *v, struct nfs_part *p)
{
	struct cb_io *io = p->req->io;

	switch (io->op) {
	case CB_IO_READ:
		return nfs_pread_async(v->nfs, v->fh, io->offset + p->off, p->len, rpc_done, p);
	case CB_IO_WRITE:
		return nfs_pwrite_async(v->nfs, v->fh, io->offset + p->off, p->len,
					(char *)io->buf + p->off, rpc_done, p);
	default:
		return nfs_fsync_async(v->nfs, v->fh, rpc_done, p);
	}
}

/* libnfs 4.0 sends NFSv4 reads and writes whole, so they are cut here
 * into RPCs it can encode and the server takes. */
static uint32_t part_max(const struct nfs_volume *v, const struct cb_io *io)
{
	uint32_t max = io->op == CB_IO_READ ? v->read_max : io->op == CB_IO_WRITE ? v->write_max : 0;

	return max && io->length > max ? max : 0;
}

static int make_parts(struct nfs_req *r, uint32_t max, unsigned *n)
{
	uint32_t len = r->io->op == CB_IO_FLUSH ? 0 : r->io->length;

	*n = max ? (len + max - 1) / max : 1;
	if (*n > r->parts_cap) {
		struct nfs_part *p = realloc(r->parts, *n * sizeof *p);

		if (!p)
			return -1;
		r->parts = p;
		r->parts_cap = *n;
	}
	for (unsigned i = 0; i < *n; i++) {
		uint32_t off = i * max;

		r->parts[i] = (struct nfs_part){
			.req = r, .off = off, .len = max && len - off > max ? max : len - off,
		};
	}
	return 0;
}

static void send_req(struct nfs_volume *v, struct nfs_req *r)
{
	unsigned n, i;

	if (make_parts(r, part_max(v, r->io), &n) == -1) {
		finish(r, ENOMEM);
		return;
	}
	r->sent_on = v->nfs;
	r->err = 0;
	r->again = false;
	/* One more than the parts: the request outlives the loop below. */
	r->parts_left = n + 1;
	link_move_tail(&v->sent, &r->link);
	for (i = 0; i < n && !r->err; i++) {
		if (send_part(v, &r->parts[i]) < 0) {
			r->parts_left -= n - i;
			rpc_failed(r, EIO, nfs_get_error(v->nfs));
		}
	}
	if (--r->parts_left == 0)
		attempt_done(r);
}

void nfs_io_submit(struct nfs_volume *v, struct cb_io *io)
{
	struct nfs_req *r;

	if (io->op != CB_IO_READ && io->op != CB_IO_WRITE && io->op != CB_IO_FLUSH) {
		io->complete(io, ENOTSUP);
		cb_inflight_done(&v->inflight);
		return;
	}
	r = req_new(v);
	if (!r) {
		io->complete(io, ENOMEM);
		cb_inflight_done(&v->inflight);
		return;
	}
	r->io = io;
	r->deadline_ms = cb_now_ms() + v->io_timeout_ms;
	if (v->state == NFS_SESSION_UP && !v->broken) {
		send_req(v, r);
		v->unsent++;
	} else
		wait_for_session(r);
}

void nfs_io_resend(struct nfs_volume *v)
{
	/* Requests that fail again come back to the tail: stop at the one
	 * that was last when this began. */
	struct nfs_link *last = v->waiting.prev, *l, *next;

	if (link_empty(&v->waiting))
		return;
	for (l = v->waiting.next; v->state == NFS_SESSION_UP && !v->broken; l = next) {
		bool was_last = l == last;

		next = l->next;
		send_req(v, req_of(l));
		if (was_last)
			break;
	}
}

void nfs_io_requeue_sent(struct nfs_volume *v)
{
	while (!link_empty(&v->sent))
		wait_for_session(req_of(v->sent.next));
}

bool nfs_io_expire(struct nfs_volume *v, uint64_t now)
{
	unsigned expired = 0;
	struct nfs_link *l, *next;

	for (l = v->waiting.next; l != &v->waiting; l = next) {
		next = l->next;
		if (now >= req_of(l)->deadline_ms) {
			finish(req_of(l), EIO);
			expired++;
		}
	}
	if (expired)
		cb_log(CB_LOG_ERROR, "%s: %u request%s failed with EIO: not done within "
		       "nfs.io_timeout (%u s)%s%s", v->where, expired, expired == 1 ? "" : "s",
		       v->io_timeout_ms / 1000, v->last_error[0] ? "; the server: " : "",
		       v->last_error);
	for (l = v->sent.next; l != &v->sent; l = l->next)
		if (now >= req_of(l)->deadline_ms)
			return true;
	return false;
}

void nfs_io_free(struct nfs_volume *v)
{
	while (!link_empty(&v->spare)) {
		struct nfs_req *r = req_of(v->spare.next);

		link_del(&r->link);
		free(r->parts);
		free(r);
	}
}
