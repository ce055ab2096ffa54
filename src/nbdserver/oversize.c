/* READs and WRITEs larger than the maximum advertised, from clients that
 * negotiated no block size (the reference nbd-server and nbdkit take up
 * to 64 MiB from them).  Rare enough to handle on the connection thread,
 * one chunk at a time, so no request slot ever holds such a payload.  The
 * connection thread is the only writer to the socket, so a READ's reply,
 * sent here whole, cannot interleave with another. */
#include <config.h>

#include <stdlib.h>

#include "lib/log.h"
#include "tx.h"

/* Bounds the memory of an oversized request; large enough that a chunk's
 * system calls cost little next to its copy. */
#define CHUNK_MAX (4u << 20)

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* A page-aligned buffer (O_DIRECT backends use it as it is) of a whole
 * number of the backend's blocks, so every chunk stays aligned. */
static void *chunk_alloc(const struct tx *t, uint32_t *chunk)
{
	uint32_t block = t->backend->caps.block_min;
	uint32_t n = min_u32(t->direct_max, CHUNK_MAX);
	void *buf;

	n -= n % block;
	if (n == 0 || posix_memalign(&buf, 4096, n))
		return NULL;
	*chunk = n;
	return buf;
}

bool big_write(struct tx *t, const struct nbd_request *req, uint32_t *err)
{
	uint32_t flags = req->flags & NBD_CMD_FLAG_FUA ? CB_IO_FUA : 0;
	uint64_t off = req->offset;
	uint32_t left = req->length, chunk;
	void *buf = chunk_alloc(t, &chunk);
	bool ok = buf != NULL;

	while (ok && left > 0) {
		uint32_t n = min_u32(left, chunk);

		ok = tx_read_payload(t, buf, n);
		if (ok && !*err)
			*err = nbd_errno_to_wire(cb_backend_io_sync(t->backend, CB_IO_WRITE,
								    flags, off, n, buf));
		off += n;
		left -= n;
	}
	free(buf);
	return ok;
}

static size_t reply_header(const struct tx *t, const struct nbd_request *req, uint8_t *hdr)
{
	if (!t->c->session.structured) {
		nbd_encode_simple_reply(hdr, 0, req->cookie);
		return NBD_SIMPLE_REPLY_LEN;
	}
	nbd_encode_chunk_header(hdr, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA,
				req->cookie, 8 + req->length);
	nbd_put64(hdr + NBD_CHUNK_HEADER_LEN, req->offset);
	return NBD_CHUNK_HEADER_LEN + 8;
}

/* The header goes once the first chunk is in hand, so an error there is
 * an ordinary error reply.  A later one leaves no way to tell the client
 * but a hard disconnect, which proto.md then requires. */
uint32_t big_read(struct tx *t, const struct nbd_request *req)
{
	uint8_t hdr[NBD_CHUNK_HEADER_LEN + 8];
	uint64_t off = req->offset;
	uint32_t chunk, left = req->length, n;
	void *buf = chunk_alloc(t, &chunk);
	int err;
	bool ok;

	if (!buf)
		return NBD_ENOMEM;
	n = min_u32(left, chunk);
	err = cb_backend_io_sync(t->backend, CB_IO_READ, 0, off, n, buf);
	if (err) {
		free(buf);
		return nbd_errno_to_wire(err);
	}
	ok = nbd_write_full(t->fd, hdr, reply_header(t, req, hdr));
	while (ok) {
		ok = nbd_write_full(t->fd, buf, n);
		off += n;
		left -= n;
		if (!ok || left == 0)
			break;
		n = min_u32(left, chunk);
		err = cb_backend_io_sync(t->backend, CB_IO_READ, 0, off, n, buf);
		if (err) {
			cb_log(CB_LOG_ERROR, "client %s: reading %u bytes at %llu failed after "
			       "the reply began (%s), disconnecting", t->c->peer, n,
			       (unsigned long long)off, strerror(err));
			ok = false;
		}
	}
	if (!ok) {
		t->broken = true;
		t->eof = true;
	}
	free(buf);
	return 0;
}
