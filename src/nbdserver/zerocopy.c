/* Large payloads that skip the slot buffers: reads sent from the backend's
 * file descriptor with sendfile(), writes spliced from the socket through a
 * pipe into its file descriptor.  Each saves a copy of the payload through
 * this process. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "tx.h"

/* Reads from here up are sent with sendfile() when the backend allows it:
 * the copy saved outweighs the extra system call. */
#define SENDFILE_MIN (64u << 10)
/* Page-aligned writes from here up go from the socket to the backend's fd
 * through a pipe (splice), which saves copying them into a buffer first.
 * Unaligned ones would make the kernel read the partial pages from disk on
 * the connection thread.  Not recv() into a shared mapping of the volume:
 * once writeback has cleaned a page, every write to it through the mapping
 * takes a fault and the filesystem's page_mkwrite, which cost 3-5x in
 * sustained large writes. */
#define SPLICE_MIN (64u << 10)
#define SPLICE_ALIGN 4096u
#define PIPE_SIZE (1u << 20)

/* Whether a read's payload can go from the backend's fd to the socket. */
bool zc_read(struct tx *t, struct slot *sl)
{
	if (sl->io.length < SENDFILE_MIN)
		return false;
	sl->src_fd = cb_backend_read_fd(t->backend, sl->io.offset, sl->io.length);
	return sl->src_fd >= 0;
}

static bool pipe_ready(struct tx *t)
{
	int cap;

	if (t->pipe[0] >= 0)
		return true;
	if (pipe2(t->pipe, O_CLOEXEC) == -1) {
		t->pipe[0] = t->pipe[1] = -1;
		return false;
	}
	/* The default 64 KiB works too, in more rounds. */
	cap = fcntl(t->pipe[1], F_SETPIPE_SZ, PIPE_SIZE);
	if (cap == -1)
		cap = fcntl(t->pipe[1], F_GETPIPE_SZ);
	t->pipe_cap = cap > 0 ? (size_t)cap : 4096;
	return true;
}

static void drain_pipe(struct tx *t, size_t n)
{
	ssize_t k;

	while (n > 0 && (k = read(t->pipe[0], t->rbuf, n < RBUF_SIZE ? n : RBUF_SIZE)) > 0)
		n -= (size_t)k;
}

/* Moves n bytes from the pipe to fd at *off; a positive errno if the
 * backend failed, and then the pipe is emptied anyway.  The receive buffer
 * is free to use: it was empty, or the payload would not be in the pipe. */
static int pipe_to_fd(struct tx *t, int fd, off_t *off, size_t n)
{
	while (n > 0) {
		ssize_t k = splice(t->pipe[0], NULL, fd, off, n, SPLICE_F_MOVE);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = k < 0 ? errno : EIO;

			drain_pipe(t, n);
			return err;
		}
		n -= (size_t)k;
	}
	return 0;
}

/*
 * A write payload, on this thread: the write lands in the page cache, so
 * it is as quick as the copy it saves.  Bytes already in the receive
 * buffer are written from there, the rest spliced from the socket to fd
 * through the pipe.  False when the socket failed; the backend's errors go
 * into the reply.
 */
static bool write_payload(struct tx *t, struct slot *sl, int fd)
{
	size_t have = t->rlen - t->rpos, left = sl->io.length;
	size_t head = have < left ? have : left;
	off_t off = (off_t)sl->io.offset;
	int err = 0;

	if (head) {
		ssize_t w = pwrite(fd, t->rbuf + t->rpos, head, off);

		if (w != (ssize_t)head)
			err = w < 0 ? errno : EIO;
	}
	t->rpos += head;
	off += (off_t)head;
	left -= head;
	while (left > 0) {
		ssize_t n = splice(t->fd, NULL, t->pipe[1], NULL,
				   left < t->pipe_cap ? left : t->pipe_cap, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (!err)
			err = pipe_to_fd(t, fd, &off, (size_t)n);
		else
			drain_pipe(t, (size_t)n);
		left -= (size_t)n;
	}
	sl->nbd_err = nbd_errno_to_wire(err);
	return true;
}

/* Whether a write's payload can go from the socket to the backend; then
 * *fd is set. */
static bool can_write_direct(struct tx *t, const struct slot *sl, uint16_t flags, int *fd)
{
	if (sl->io.length < SPLICE_MIN || (flags & NBD_CMD_FLAG_FUA) ||
	    sl->io.offset % SPLICE_ALIGN || sl->io.length % SPLICE_ALIGN)
		return false;
	*fd = cb_backend_write_fd(t->backend, sl->io.offset, sl->io.length);
	return *fd >= 0 && pipe_ready(t);
}

/* The payload of a read that build_reply() left out.  The header has gone
 * already, so a short send leaves the stream unusable. */
void zc_send_read_payload(struct tx *t, struct slot *sl)
{
	off_t off = (off_t)sl->io.offset;
	size_t left = sl->io.length;

	while (left > 0 && !t->broken) {
		ssize_t n = sendfile(t->fd, sl->src_fd, &off, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cb_log(CB_LOG_ERROR, "client %s: sending read data: %s", t->c->peer,
			       n == 0 ? "the volume shrank" : strerror(errno));
			t->broken = true;
			t->eof = true;
			break;
		}
		left -= (size_t)n;
	}
}

int zc_write(struct tx *t, struct slot *sl, uint16_t flags)
{
	int fd;

	if (!can_write_direct(t, sl, flags, &fd))
		return 0;
	return write_payload(t, sl, fd) ? 1 : -1;
}

/* The pipe is made on the first spliced write. */
void zc_init(struct tx *t)
{
	t->pipe[0] = t->pipe[1] = -1;
}

void zc_close(struct tx *t)
{
	if (t->pipe[0] >= 0) {
		close(t->pipe[0]);
		close(t->pipe[1]);
	}
}
