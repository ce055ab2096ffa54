/* Large payloads that skip the slot buffers: reads sent from the backend's
 * file descriptor with sendfile(), writes received straight into the
 * backend's mapping of the volume or spliced from the socket through a pipe
 * into its file descriptor.  Each saves a copy of the payload through this
 * process. */
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
/* Writes from here up go from the socket to the backend's mapping (recv)
 * or, page-aligned, to its fd through a pipe (splice), which saves copying
 * them into a buffer first.  Unaligned ones would make the kernel read the
 * partial pages from disk on the connection thread, so they take this way
 * only where the backend maps the range, which promises it is cached. */
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

/* Up to len payload bytes from the socket into the volume's mapping, the
 * kernel's copy the only one.  Fewer when the copy faulted: what was not
 * received is still in the socket.  *failed when the socket did. */
static size_t recv_to_map(struct tx *t, char *map, size_t len, bool *failed)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(t->fd, map + got, len - got, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EFAULT)
			break;
		if (n <= 0) {
			*failed = true;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

/*
 * A write payload, on this thread: the write lands in the page cache, so
 * it is as quick as the copy it saves.  Bytes already in the receive
 * buffer are written from there, the rest received into the mapping (when
 * map is set) and, for what that leaves, spliced from the socket to fd
 * through the pipe.  False when the socket failed; the backend's errors go
 * into the reply.
 */
static bool write_payload(struct tx *t, struct slot *sl, int fd, char *map)
{
	size_t have = t->rlen - t->rpos, left = sl->io.length;
	size_t head = have < left ? have : left;
	off_t off = (off_t)sl->io.offset;
	bool failed = false;
	int err = 0;

	if (head) {
		ssize_t w = pwrite(fd, t->rbuf + t->rpos, head, off);

		if (w != (ssize_t)head)
			err = w < 0 ? errno : EIO;
	}
	t->rpos += head;
	off += (off_t)head;
	left -= head;
	if (map && !err && left > 0) {
		size_t got = recv_to_map(t, map + head, left, &failed);

		if (failed)
			return false;
		off += (off_t)got;
		left -= got;
	}
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
 * *fd is set, and *map too when the backend maps the range. */
static bool can_write_direct(struct tx *t, const struct slot *sl, uint16_t flags, int *fd,
			     char **map)
{
	if (sl->io.length < SPLICE_MIN || (flags & NBD_CMD_FLAG_FUA))
		return false;
	*fd = cb_backend_write_fd(t->backend, sl->io.offset, sl->io.length);
	if (*fd < 0 || !pipe_ready(t))
		return false;
	*map = cb_backend_write_map(t->backend, sl->io.offset, sl->io.length);
	return *map || (sl->io.offset % SPLICE_ALIGN == 0 && sl->io.length % SPLICE_ALIGN == 0);
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
	char *map = NULL;
	int fd;

	if (!can_write_direct(t, sl, flags, &fd, &map))
		return 0;
	return write_payload(t, sl, fd, map) ? 1 : -1;
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
