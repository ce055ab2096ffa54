/* The state of one client in the transmission phase, shared by
 * transmission.c (the request loop) and zerocopy.c (payloads that bypass the
 * slot buffers).  Private to src/nbdserver. */
#ifndef CB_NBD_TX_H
#define CB_NBD_TX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
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

#endif
