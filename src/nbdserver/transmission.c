/* The transmission phase: the hot path.
 *
 * One thread per client reads requests in batches (one recv() usually
 * carries many), submits each to the backend without waiting, and writes
 * every reply that is ready with a single writev().  Backends complete
 * requests inline or from their own threads; completions land on a queue
 * that this thread drains.  Request slots and their buffers are allocated
 * once per connection and reused, so the steady state does not malloc.
 * Large reads and writes may bypass the slot buffers (zerocopy.c).
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/log.h"
#include "tx.h"

#define slot_of(iop) ((struct slot *)((char *)(iop) - offsetof(struct slot, io)))

static void queue_done(struct tx *t, struct slot *sl)
{
	bool wake;

	sl->next = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->done_tail)
		t->done_tail->next = sl;
	else
		t->done_head = sl;
	t->done_tail = sl;
	wake = t->sleeping;
	t->sleeping = false;
	pthread_mutex_unlock(&t->lock);
	if (wake) {
		uint64_t one = 1;

		if (write(t->efd, &one, sizeof one) != sizeof one)
			cb_log(CB_LOG_ERROR, "eventfd write: %s", strerror(errno));
	}
}

static void on_complete(struct cb_io *io, int err)
{
	struct slot *sl = slot_of(io);

	sl->nbd_err = nbd_errno_to_wire(err);
	queue_done(sl->tx, sl);
}

/* Page-aligned, because O_DIRECT backends read and write these buffers
 * directly.  The old contents never matter, so no realloc. */
static bool slot_reserve(struct slot *sl, uint32_t len)
{
	void *p;

	if (len <= sl->cap)
		return true;
	if (posix_memalign(&p, 4096, len))
		return false;
	free(sl->buf);
	sl->buf = p;
	sl->cap = len;
	return true;
}

/* What a request holds in buffers while in flight, for INFLIGHT_BYTES_MAX.
 * A block status reply has at most MAX_EXTENTS descriptors whatever its
 * length, and must not stop the requests behind it from being read. */
static uint32_t held_bytes(uint16_t type, uint32_t length)
{
	return type == NBD_CMD_BLOCK_STATUS ? 0 : length;
}

static struct slot *slot_take(struct tx *t, const struct nbd_request *req)
{
	struct slot *sl = t->free;

	t->free = sl->next;
	sl->next = NULL;
	sl->cookie = req->cookie;
	sl->type = req->type;
	sl->nbd_err = 0;
	sl->data_len = 0;
	sl->src_fd = -1;
	sl->io = (struct cb_io){ .offset = req->offset, .length = req->length,
				 .complete = on_complete };
	t->inflight++;
	t->inflight_bytes += held_bytes(req->type, req->length);
	return sl;
}

static void slot_release(struct tx *t, struct slot *sl)
{
	t->inflight--;
	t->inflight_bytes -= held_bytes(sl->type, sl->io.length);
	if (sl->cap > KEEP_BUF_MAX) {
		free(sl->buf);
		sl->buf = NULL;
		sl->cap = 0;
	}
	sl->next = t->free;
	t->free = sl;
}

/* The block status reply is built in the slot's buffer: the context id,
 * then descriptors, counted by data_len.  Called by the backend, from the
 * thread that runs the request. */
static int add_extent(struct cb_io *io, uint64_t off, uint64_t len, bool hole)
{
	struct slot *sl = slot_of(io);
	uint32_t n = (sl->data_len - 4) / 8;
	uint32_t max = io->flags & CB_IO_ONE_EXTENT ? 1 : MAX_EXTENTS;
	uint8_t *d = (uint8_t *)sl->buf + sl->data_len;
	uint32_t flags = hole ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0;

	(void)off;		/* contiguous from io->offset: the backend's promise */
	/* Merge with the previous descriptor when the state is the same. */
	if (n && nbd_get32(d - 4) == flags) {
		nbd_put32(d - 8, nbd_get32(d - 8) + (uint32_t)len);
		return 0;
	}
	if (n == max)
		return 1;
	nbd_put32(d, (uint32_t)len);
	nbd_put32(d + 4, flags);
	sl->data_len += 8;
	return 0;
}

static void block_status_done(struct cb_io *io, int err)
{
	struct slot *sl = slot_of(io);

	if (!err && sl->data_len == 4)	/* no map: everything is data */
		add_extent(io, io->offset, io->length, false);
	on_complete(io, err);
}

/* Submitted like any other request: for a network backend the map is a
 * round trip, which must not hold up the requests behind it. */
static void do_block_status(struct tx *t, struct slot *sl, uint16_t flags)
{
	if (!slot_reserve(sl, 4 + 8 * MAX_EXTENTS)) {
		sl->nbd_err = NBD_ENOMEM;
		queue_done(t, sl);
		return;
	}
	nbd_put32(sl->buf, NBD_META_ID_BASE_ALLOCATION);
	sl->data_len = 4;
	sl->io.op = CB_IO_EXTENTS;
	sl->io.flags = flags & NBD_CMD_FLAG_REQ_ONE ? CB_IO_ONE_EXTENT : 0;
	sl->io.extent = add_extent;
	sl->io.complete = block_status_done;
	if (t->backend->caps.can_extents)
		cb_backend_submit(t->backend, &sl->io);
	else
		block_status_done(&sl->io, 0);
}

static enum cb_io_op io_op(uint16_t type)
{
	switch (type) {
	case NBD_CMD_WRITE:
		return CB_IO_WRITE;
	case NBD_CMD_FLUSH:
		return CB_IO_FLUSH;
	case NBD_CMD_TRIM:
		return CB_IO_TRIM;
	case NBD_CMD_WRITE_ZEROES:
		return CB_IO_WRITE_ZEROES;
	case NBD_CMD_CACHE:
		return CB_IO_CACHE;
	default:
		return CB_IO_READ;
	}
}

static uint32_t io_flags(uint16_t nbd_flags)
{
	uint32_t f = 0;

	if (nbd_flags & NBD_CMD_FLAG_FUA)
		f |= CB_IO_FUA;
	if (!(nbd_flags & NBD_CMD_FLAG_NO_HOLE))
		f |= CB_IO_MAY_TRIM;
	if (nbd_flags & NBD_CMD_FLAG_FAST_ZERO)
		f |= CB_IO_FAST_ZERO;
	return f;
}

static void dispatch(struct tx *t, struct slot *sl, uint16_t flags)
{
	if (sl->nbd_err || (sl->io.length == 0 && sl->type != NBD_CMD_FLUSH)) {
		queue_done(t, sl);
		return;
	}
	if (sl->type == NBD_CMD_BLOCK_STATUS) {
		do_block_status(t, sl, flags);
		return;
	}
	sl->io.op = io_op(sl->type);
	sl->io.flags = io_flags(flags);
	sl->io.buf = sl->buf;
	cb_backend_submit(t->backend, &sl->io);
}

/* A READ or WRITE larger than a slot takes; false ends the session. */
static bool handle_oversized(struct tx *t, const struct nbd_request *req)
{
	struct slot *sl;
	uint32_t err;

	/* A payload larger than any client may send is not worth receiving
	 * only to refuse it: hang up, as proto.md allows for lengths over
	 * 2^25 deemed a denial of service. */
	if (req->type == NBD_CMD_WRITE && req->length > NBD_SERVER_MAX_PAYLOAD) {
		cb_log(CB_LOG_INFO, "client %s: write of %u bytes exceeds the maximum, "
		       "disconnecting", t->c->peer, req->length);
		return false;
	}
	err = nbd_check_request(req, &t->c->session.lim);
	if (req->type == NBD_CMD_WRITE && !big_write(t, req, &err))
		return false;
	if (req->type == NBD_CMD_READ && !err) {
		err = big_read(t, req);
		if (!err)
			return true;
	}
	sl = slot_take(t, req);
	sl->nbd_err = err;
	queue_done(t, sl);
	return true;
}

/* Takes one request off the receive buffer; false ends the session. */
static bool handle_request(struct tx *t, const struct nbd_request *req)
{
	struct slot *sl;
	bool needs_buf = req->type == NBD_CMD_READ || req->type == NBD_CMD_WRITE;
	int spliced;

	if (req->type == NBD_CMD_DISC)
		return false;
	if (needs_buf && req->length > t->direct_max)
		return handle_oversized(t, req);
	sl = slot_take(t, req);
	sl->nbd_err = nbd_check_request(req, &t->c->session.lim);
	if (req->type == NBD_CMD_READ && !sl->nbd_err && zc_read(t, sl)) {
		queue_done(t, sl);
		return true;
	}
	spliced = req->type == NBD_CMD_WRITE && !sl->nbd_err ? zc_write(t, sl, req->flags) : 0;
	if (spliced == -1) {
		slot_release(t, sl);
		return false;
	}
	if (spliced) {
		queue_done(t, sl);
		return true;
	}
	if (needs_buf && !slot_reserve(sl, req->length)) {
		if (req->type == NBD_CMD_WRITE) {
			slot_release(t, sl);
			return false;
		}
		sl->nbd_err = NBD_ENOMEM;
	}
	if (req->type == NBD_CMD_WRITE && !tx_read_payload(t, sl->buf, req->length)) {
		slot_release(t, sl);
		return false;
	}
	dispatch(t, sl, req->flags);
	return true;
}

static bool can_take_request(const struct tx *t)
{
	return !t->eof && t->free && t->inflight_bytes < INFLIGHT_BYTES_MAX;
}

static void dispatch_buffered(struct tx *t)
{
	while (can_take_request(t) && t->rlen - t->rpos >= NBD_REQUEST_LEN) {
		struct nbd_request req;

		if (!nbd_decode_request(t->rbuf + t->rpos, &req)) {
			cb_log(CB_LOG_INFO, "client %s: bad request magic, disconnecting",
			       t->c->peer);
			t->eof = true;
			break;
		}
		t->rpos += NBD_REQUEST_LEN;
		if (!handle_request(t, &req))
			t->eof = true;
	}
}

/* Fills the iovecs for one reply; returns how many were used. */
static int build_reply(struct tx *t, struct slot *sl, struct iovec *iov)
{
	bool structured = t->c->session.structured;
	bool has_data = !sl->nbd_err && (sl->type == NBD_CMD_READ ||
					 sl->type == NBD_CMD_BLOCK_STATUS);
	uint32_t data_len = sl->type == NBD_CMD_READ ? sl->io.length : sl->data_len;
	size_t hlen;

	if (!structured || (sl->type != NBD_CMD_READ && sl->type != NBD_CMD_BLOCK_STATUS)) {
		nbd_encode_simple_reply(sl->hdr, sl->nbd_err, sl->cookie);
		hlen = NBD_SIMPLE_REPLY_LEN;
		has_data = has_data && sl->type == NBD_CMD_READ;
	} else if (sl->nbd_err) {
		nbd_encode_chunk_header(sl->hdr, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR,
					sl->cookie, 6);
		nbd_put32(sl->hdr + NBD_CHUNK_HEADER_LEN, sl->nbd_err);
		nbd_put16(sl->hdr + NBD_CHUNK_HEADER_LEN + 4, 0);
		hlen = NBD_CHUNK_HEADER_LEN + 6;
	} else if (sl->type == NBD_CMD_READ && data_len == 0) {
		/* An OFFSET_DATA chunk must carry at least one byte (clients
		 * such as libnbd drop the connection otherwise), and a
		 * zero-length read needs no data chunk to be complete. */
		nbd_encode_chunk_header(sl->hdr, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE,
					sl->cookie, 0);
		hlen = NBD_CHUNK_HEADER_LEN;
	} else if (sl->type == NBD_CMD_READ) {
		nbd_encode_chunk_header(sl->hdr, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA,
					sl->cookie, 8 + data_len);
		nbd_put64(sl->hdr + NBD_CHUNK_HEADER_LEN, sl->io.offset);
		hlen = NBD_CHUNK_HEADER_LEN + 8;
	} else {
		nbd_encode_chunk_header(sl->hdr, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS,
					sl->cookie, data_len);
		hlen = NBD_CHUNK_HEADER_LEN;
	}
	iov[0] = (struct iovec){ .iov_base = sl->hdr, .iov_len = hlen };
	if (!has_data || data_len == 0 || sl->src_fd >= 0)
		return 1;
	iov[1] = (struct iovec){ .iov_base = sl->buf, .iov_len = data_len };
	return 2;
}

static void write_iov(struct tx *t, struct iovec *iov, int n)
{
	while (n > 0 && !t->broken) {
		ssize_t w = writev(t->fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			t->broken = true;
			t->eof = true;
			break;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
}

static struct slot *take_done(struct tx *t)
{
	struct slot *list;

	pthread_mutex_lock(&t->lock);
	list = t->done_head;
	t->done_head = t->done_tail = NULL;
	pthread_mutex_unlock(&t->lock);
	return list;
}

static void send_replies(struct tx *t)
{
	struct slot *list = take_done(t);

	while (list) {
		struct slot *batch = list, *sl;
		int n = 0;

		struct slot *last = NULL;

		/* A batch ends after a reply whose payload goes by sendfile. */
		while (list && n <= IOV_BATCH - 2 && !(last && last->src_fd >= 0)) {
			n += build_reply(t, list, t->iov + n);
			last = list;
			list = list->next;
		}
		write_iov(t, t->iov, n);
		if (last->src_fd >= 0 && !last->nbd_err)
			zc_send_read_payload(t, last);
		for (sl = batch; sl != list;) {
			struct slot *next = sl->next;

			slot_release(t, sl);
			sl = next;
		}
	}
}

static void fill_rbuf(struct tx *t, int flags)
{
	ssize_t n;

	if (t->rpos) {
		memmove(t->rbuf, t->rbuf + t->rpos, t->rlen - t->rpos);
		t->rlen -= t->rpos;
		t->rpos = 0;
	}
	do
		n = recv(t->fd, t->rbuf + t->rlen, RBUF_SIZE - t->rlen, flags);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		t->rlen += n;
	else if (n == 0 || errno != EAGAIN)
		t->eof = true;
}

static bool done_pending(struct tx *t)
{
	bool pending;

	pthread_mutex_lock(&t->lock);
	pending = t->done_head != NULL;
	t->sleeping = !pending;
	pthread_mutex_unlock(&t->lock);
	return pending;
}

/* poll(2) on this connection's descriptors.  While it is the server's only
 * client, the backend's own I/O (an event loop's) runs on this thread
 * meanwhile, so its completions need no other thread woken to hand them
 * over.  With other clients this thread must not hold their I/O up while
 * it blocks on its own client's socket, so the backend keeps it. */
static void tx_poll(struct tx *t, struct pollfd *p, int n)
{
	int r;

	if (nbd_conns_count(t->c->srv) == 1) {
		r = cb_backend_poll(t->backend, p, n, -1);
	} else {
		cb_backend_poll_leave(t->backend);
		r = poll(p, (nfds_t)n, -1);
	}
	if (r == -1 && errno != EINTR)
		cb_log(CB_LOG_ERROR, "client %s: poll: %s", t->c->peer, strerror(errno));
}

static void wait_for_work(struct tx *t)
{
	bool want_read = can_take_request(t);
	struct pollfd pfd[2] = {
		{ .fd = t->efd, .events = POLLIN },
		{ .fd = want_read ? t->fd : -1, .events = POLLIN },
	};

	/* Whole requests still buffered (a burst larger than SLOTS): take
	 * them first.  Blocking on the socket now would deadlock a client
	 * that sent everything and waits for the replies. */
	if (want_read && t->rlen - t->rpos >= NBD_REQUEST_LEN)
		return;
	/* Nothing in flight: nothing can complete, so just wait for the
	 * socket, polling it first (spin.c); in poll() only where this
	 * thread may have the backend's I/O to drive meanwhile. */
	if (want_read && t->inflight == 0 &&
	    (nbd_spin_for_input(&t->spin, &t->c->srv->spin, t->fd) ||
	     !cb_backend_can_poll(t->backend))) {
		fill_rbuf(t, 0);
		return;
	}
	if (done_pending(t))
		return;
	tx_poll(t, pfd, 2);
	pthread_mutex_lock(&t->lock);
	t->sleeping = false;
	pthread_mutex_unlock(&t->lock);
	if (pfd[0].revents) {
		uint64_t v;

		if (read(t->efd, &v, sizeof v) < 0 && errno != EAGAIN)
			cb_log(CB_LOG_ERROR, "eventfd read: %s", strerror(errno));
	}
	if (pfd[1].revents)
		fill_rbuf(t, MSG_DONTWAIT);
}

static struct tx *tx_new(struct nbd_conn *c)
{
	struct tx *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->rbuf = malloc(RBUF_SIZE);
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!t->rbuf || t->efd == -1) {
		free(t->rbuf);
		if (t->efd >= 0)
			close(t->efd);
		free(t);
		return NULL;
	}
	t->c = c;
	t->fd = c->fd;
	t->backend = c->srv->backend;
	t->direct_max = nbd_advertised_max(c->srv);
	if (t->direct_max > c->session.lim.block_max)
		t->direct_max = c->session.lim.block_max;
	zc_init(t);
	pthread_mutex_init(&t->lock, NULL);
	for (int i = SLOTS - 1; i >= 0; i--) {
		t->slots[i].tx = t;
		t->slots[i].next = t->free;
		t->free = &t->slots[i];
	}
	return t;
}

static void tx_free(struct tx *t)
{
	for (int i = 0; i < SLOTS; i++)
		free(t->slots[i].buf);
	pthread_mutex_destroy(&t->lock);
	zc_close(t);
	close(t->efd);
	free(t->rbuf);
	free(t);
}

void nbd_transmission(struct nbd_conn *c)
{
	struct tx *t = tx_new(c);

	if (!t) {
		cb_log(CB_LOG_ERROR, "client %s: out of memory", c->peer);
		return;
	}
	/* Leave only when nothing is in flight: the backend still owns the
	 * slots of unfinished requests. */
	for (;;) {
		dispatch_buffered(t);
		send_replies(t);
		if (t->eof && t->inflight == 0)
			break;
		wait_for_work(t);
	}
	cb_backend_poll_leave(t->backend);
	tx_free(t);
}
