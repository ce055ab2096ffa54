/* The state of one client in the transmission phase, shared by
 * transmission.c (the request loop), zerocopy.c (payloads that bypass the
 * slot buffers) and oversize.c (requests larger than a slot takes).
 * Private to src/nbdserver. */
#ifndef CB_NBD_TX_H
#define CB_NBD_TX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "backends/backend.h"
#include "internal.h"

#define SLOTS 128			/* requests in flight per client */
/* Room for a burst of small requests; large write payloads past what is
 * already buffered are received straight into their slot, so keeping this
 * small bounds the bytes copied twice. */
#define RBUF_SIZE (64u << 10)
#define INFLIGHT_BYTES_MAX (64u << 20)	/* stop reading requests past this */
#define KEEP_BUF_MAX (1u << 20)		/* larger buffers are not cached */
#define IOV_BATCH 256
#define MAX_EXTENTS 1024
struct tx;

struct slot {
	struct cb_io io;
	struct tx *tx;
	uint64_t cookie;
	uint16_t type;
	uint32_t nbd_err;
	uint32_t data_len;		/* reply payload bytes in buf */
	uint8_t hdr[NBD_CHUNK_HEADER_LEN + 8];
	void *buf;
	uint32_t cap;
	int src_fd;			/* READ: payload sent from here, not buf */
	struct slot *next;		/* free list or done queue */
};

struct tx {
	struct nbd_conn *c;
	struct cb_backend *backend;
	int fd;
	/* READ and WRITE payloads up to this go through a slot; larger ones
	 * to oversize.c. */
	uint32_t direct_max;
	bool eof;			/* no more requests will be read */
	bool broken;			/* the socket failed: replies are dropped */
	unsigned inflight;
	uint64_t inflight_bytes;
	struct slot *free;

	uint8_t *rbuf;
	size_t rpos, rlen;
	struct nbd_spin spin;
	int pipe[2];			/* for spliced writes; -1 until needed */
	size_t pipe_cap;

	pthread_mutex_t lock;		/* protects the done queue and sleeping */
	struct slot *done_head, *done_tail;
	bool sleeping;
	int efd;

	struct iovec iov[IOV_BATCH];
	struct slot slots[SLOTS];
};

/* Moves len payload bytes from the receive buffer, then the socket. */
static inline bool tx_read_payload(struct tx *t, void *dst, uint32_t len)
{
	size_t have = t->rlen - t->rpos;
	size_t n = have < len ? have : len;

	/* A zero-length write may come on a slot that never had a buffer,
	 * and memcpy() from or to NULL is undefined even for 0 bytes. */
	if (len == 0)
		return true;
	memcpy(dst, t->rbuf + t->rpos, n);
	t->rpos += n;
	return n == len || nbd_read_full(t->fd, (char *)dst + n, len - n);
}

/* zerocopy.c.  A read whose payload the backend can send from a file
 * descriptor: sets sl->src_fd and returns true. */
bool zc_read(struct tx *t, struct slot *sl);
/* Sends the payload of such a read, after its header. */
void zc_send_read_payload(struct tx *t, struct slot *sl);
/* A write whose payload can go from the socket straight to the backend:
 * 1 when done (the backend's error, if any, in sl->nbd_err), 0 when the
 * caller must receive it into a buffer, -1 when the socket failed. */
int zc_write(struct tx *t, struct slot *sl, uint16_t flags);
void zc_init(struct tx *t);
void zc_close(struct tx *t);

/* oversize.c: READs and WRITEs over direct_max, in chunks on the
 * connection thread.  Receives a WRITE's payload and writes it unless *err
 * is set already (then discards it); *err gets the backend's error.
 * False when the socket failed. */
bool big_write(struct tx *t, const struct nbd_request *req, uint32_t *err);
/* Sends a READ's whole reply, header and data, ahead of any other reply:
 * 0 then, even if the socket failed (t->broken says so).  Otherwise the
 * NBD error to reply with, and nothing was sent. */
uint32_t big_read(struct tx *t, const struct nbd_request *req);

#endif
