/* The FUSE export's request handlers: one regular file backed by the volume.
 *
 * Every open uses FOPEN_DIRECT_IO: the kernel keeps no page cache of its
 * own, so what NBD clients of the same backend write is what FUSE readers
 * see, and data is not cached twice.
 *
 * Each handler calls the backend synchronously on its libfuse worker thread,
 * so queue depth comes from the worker threads and from the kernel's
 * asynchronous direct I/O (max_background).  Read and bounce buffers are per
 * worker thread, allocated once, so the hot path does not allocate.  When the
 * backend can take writes on a file descriptor (the file backend), libfuse
 * receives requests by splice and large write payloads go from its pipe to
 * that descriptor without passing through this process: one copy less per
 * write, for one more system call per request.
 *
 * Backends with block_min > 1 (O_DIRECT files) get aligned bounce buffers;
 * reads of any alignment are served by reading the aligned superset, but
 * unaligned writes, zeroing and hole punching fail with EINVAL as they would
 * on a block device opened with O_DIRECT: a read-modify-write here would race
 * with concurrent writers to the same block.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fuse_internal.h"
#include "backends/zero_fill.h"
#include "lib/log.h"

/* Async direct I/O requests count as background requests: the default of 12
 * would cap the queue depth a single fio job or loop device can reach. */
#define FX_MAX_BACKGROUND 256
#define FX_CONGESTION_THRESHOLD 192
/* Nothing about the file ever changes behind the kernel's back. */
#define FX_TIMEOUT 86400.0

static struct fuse_export *req_fx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* A worker thread's buffer, big enough for the largest request plus the
 * alignment slack of an unaligned read; freed when the thread exits. */
static char *fx_buffer(struct fuse_export *fx)
{
	void *buf = pthread_getspecific(fx->buf_key);

	if (buf)
		return buf;
	if (posix_memalign(&buf, fx->buf_align, fx->buf_size) != 0)
		return NULL;
	if (pthread_setspecific(fx->buf_key, buf) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The volume grows while the mount serves (fuse_export_grow). */
static uint64_t fx_size(const struct fuse_export *fx)
{
	return cb_backend_size(fx->backend);
}

static bool fx_aligned(const struct fuse_export *fx, uint64_t off, uint64_t len)
{
	return ((off | len) & (fx->caps.block_min - 1)) == 0;
}

/* Bytes of [off, off+len) inside the volume. */
static uint64_t fx_clamp(const struct fuse_export *fx, off_t off, uint64_t len)
{
	uint64_t size = fx_size(fx);

	if (off < 0 || (uint64_t)off >= size)
		return 0;
	return len < size - off ? len : size - off;
}

/* What a disk would say.  A backend's own errno can mislead: ENOTCONN from
 * a vanished backend, passed on, reads as "this FUSE mount is dead". */
static int fx_disk_errno(int err)
{
	switch (err) {
	case 0:
	case EINVAL:
	case ENOMEM:
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case EROFS:
	case EPERM:
	case EOVERFLOW:
	case EOPNOTSUPP:
		return err;
	default:
		return EIO;
	}
}

/* Splits a request the backend cannot take in one piece.  buf may be NULL
 * for operations without data. */
static int fx_io(struct fuse_export *fx, enum cb_io_op op, uint32_t flags,
		 uint64_t off, uint64_t len, char *buf)
{
	while (len) {
		uint32_t n = len < fx->chunk_max ? len : fx->chunk_max;
		int err = cb_backend_io_sync(fx->backend, op, flags, off, n, buf);

		if (err)
			return fx_disk_errno(err);
		off += n;
		len -= n;
		if (buf)
			buf += n;
	}
	return 0;
}

/* What readers of st_blksize (cp, dd, mkfs) take as the I/O size to use:
 * the backend's preferred size, but never less than a sector of the volume
 * nor than the smallest I/O the backend takes. */
static blksize_t fx_blksize(const struct fuse_export *fx)
{
	uint32_t size = fx->caps.block_pref;

	if (size < fx->caps.block_min)
		size = fx->caps.block_min;
	if (size < fx->caps.logical_block_size)
		size = fx->caps.logical_block_size;
	return size;
}

static void fx_fill_stat(const struct fuse_export *fx, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_uid = fx->uid;
	st->st_gid = fx->gid;
	st->st_atim = fx->started;
	st->st_mtim = fx->started;
	st->st_ctim = fx->started;
	if (ino == fx->file_ino) {
		st->st_mode = S_IFREG | (fx->read_only ? 0400 : 0600);
		st->st_nlink = 1;
		st->st_size = fx_size(fx);
		st->st_blocks = (fx_size(fx) + 511) / 512;
		st->st_blksize = fx_blksize(fx);
	} else {
		st->st_mode = S_IFDIR | (fx->read_only ? 0555 : 0755);
		st->st_nlink = 2;
	}
}

static bool fx_valid_ino(const struct fuse_export *fx, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID || ino == fx->file_ino;
}

static void fx_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fuse_export *fx = userdata;

	conn->max_read = FX_MAX_IO;
	conn->max_write = fx->max_write;
	conn->max_background = FX_MAX_BACKGROUND;
	conn->congestion_threshold = FX_CONGESTION_THRESHOLD;
	/* With atomic O_TRUNC the kernel zeroes its cached i_size on open and
	 * async direct reads would then see EOF; a plain setattr lets us answer
	 * with the real size instead. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	if (fx->splice_writes && (conn->capable & FUSE_CAP_SPLICE_READ))
		conn->want |= FUSE_CAP_SPLICE_READ;
	else
		conn->want &= ~FUSE_CAP_SPLICE_READ;
}

static void fx_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_export *fx = req_fx(req);
	struct fuse_entry_param e = {
		.ino = FX_DISK_INO,
		.attr_timeout = FX_TIMEOUT,
		.entry_timeout = FX_TIMEOUT,
	};

	if (parent != FUSE_ROOT_ID || fx->file_ino != FX_DISK_INO ||
	    strcmp(name, FX_DISK_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fx_fill_stat(fx, FX_DISK_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void fx_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	struct stat st;

	if (!fx_valid_ino(fx, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fx_fill_stat(fx, ino, &st);
	fuse_reply_attr(req, &st, FX_TIMEOUT);
}

/* The size is fixed.  A truncate to 0 is accepted as a no-op because that is
 * how open(O_TRUNC) arrives, which a block device ignores too; the reply
 * carries the real size, so the kernel's view stays right. */
static void fx_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	struct stat st;

	if (!fx_valid_ino(fx, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && ino == fx->file_ino && attr->st_size != 0 &&
	    (uint64_t)attr->st_size != fx_size(fx)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fx_fill_stat(fx, ino, &st);
	fuse_reply_attr(req, &st, FX_TIMEOUT);
}

static void fx_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);

	if (ino != fx->file_ino) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fx->read_only && (fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->direct_io = 1;
	/* Nothing is buffered on our side, so close() has nothing to flush. */
	fi->noflush = 1;
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 15)
	fi->parallel_direct_writes = 1;
#endif
	fuse_reply_open(req, fi);
}

static void fx_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	uint64_t mask = fx->caps.block_min - 1;
	uint64_t len = fx_clamp(fx, off, size < FX_MAX_IO ? size : FX_MAX_IO);
	uint64_t start, end;
	char *buf;
	int err;

	if (len == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	buf = fx_buffer(fx);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	start = off & ~mask;
	end = (off + len + mask) & ~mask;
	if (end > fx_size(fx))
		end = fx_size(fx);
	err = fx_io(fx, CB_IO_READ, 0, start, end - start, buf);
	if (err) {
		cb_log(CB_LOG_DEBUG, "FUSE read of %" PRIu64 " bytes at %lld: %s",
		       len, (long long)off, strerror(err));
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_buf(req, buf + (off - start), len);
}

static void fx_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	uint64_t len = fx_clamp(fx, off, size);
	char *buf = (char *)data;
	int err;

	if (len == 0) {
		if (size)
			fuse_reply_err(req, ENOSPC);
		else
			fuse_reply_write(req, 0);
		return;
	}
	/* libfuse's request buffer is not aligned for O_DIRECT. */
	if (fx->caps.block_min > 1) {
		if (!fx_aligned(fx, off, len)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		buf = fx_buffer(fx);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if (buf != data)	/* fx_write_buf may have filled it */
			memcpy(buf, data, len);
	}
	err = fx_io(fx, CB_IO_WRITE, 0, off, len, buf);
	if (err) {
		cb_log(CB_LOG_DEBUG, "FUSE write of %" PRIu64 " bytes at %lld: %s",
		       len, (long long)off, strerror(err));
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_write(req, len);
}

/* A payload in libfuse's pipe, spliced into the volume's fd at off.  0, or
 * -errno when not all of it was written: a short count would be taken for
 * success by a loop device, the rest silently lost.  Not read(2) into a
 * shared mapping of the volume: that beat the file's write path only on
 * pages whose mapping writeback had not yet write-protected, and lost 3-5x
 * in sustained writes (see src/nbdserver/zerocopy.c). */
static int fx_move_payload(struct fuse_bufvec *in, off_t off, uint64_t len, int fd)
{
	struct fuse_bufvec to_fd;
	uint64_t done = 0;
	ssize_t n;

	/* A short count (ENOSPC part way) is asked again for its errno. */
	while (done < len) {
		to_fd = (struct fuse_bufvec)FUSE_BUFVEC_INIT(len - done);
		to_fd.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		to_fd.buf[0].fd = fd;
		to_fd.buf[0].pos = off + (off_t)done;
		n = fuse_buf_copy(&to_fd, in, 0);
		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		done += (uint64_t)n;
	}
	return 0;
}

/*
 * With FUSE_CAP_SPLICE_READ, libfuse leaves a large write's payload in a
 * pipe; it goes from there into the backend's file, in the kernel: one copy where reading it into this process and writing it out
 * again makes two.
 */
static void fx_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
			 off_t off, struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	uint64_t len = fx_clamp(fx, off, fuse_buf_size(in));
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(len);
	int fd = len ? cb_backend_write_fd(fx->backend, off, len) : -1;
	ssize_t n;
	int err;

	/* In memory (small writes), or nothing to write: the plain path,
	 * which also answers writes past the end. */
	if (len == 0 || (in->count == 1 && !(in->buf[0].flags & FUSE_BUF_IS_FD))) {
		fx_write(req, ino, in->buf[0].mem, fuse_buf_size(in), off, fi);
		return;
	}
	if (fd < 0) {
		dst.buf[0].mem = fx_buffer(fx);
		if (!dst.buf[0].mem) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		n = fuse_buf_copy(&dst, in, 0);
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fx_write(req, ino, dst.buf[0].mem, (size_t)n, off, fi);
		return;
	}
	err = fx_move_payload(in, off, len, fd);
	if (err < 0) {
		cb_log(CB_LOG_DEBUG, "FUSE write of %" PRIu64 " bytes at %lld: %s",
		       len, (long long)off, strerror(-err));
		fuse_reply_err(req, fx_disk_errno(-err));
		return;
	}
	fuse_reply_write(req, (size_t)len);
}

static void fx_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct fuse_export *fx = req_fx(req);
	int err = 0;

	if (!fx->read_only && fx->caps.can_flush)
		err = cb_backend_io_sync(fx->backend, CB_IO_FLUSH, 0, 0, 0, NULL);
	fuse_reply_err(req, fx_disk_errno(err));
}

/* The backend's write path takes a non-const buffer, but never writes to it. */
static int fx_write_zero_chunk(void *opaque, const void *buf, uint32_t len, uint64_t off)
{
	return fx_io(opaque, CB_IO_WRITE, 0, off, len, (char *)buf);
}

/* Punch hole promises zeroes on later reads, which an advisory trim does not,
 * so both fallocate modes become write-zeroes; MAY_TRIM lets the backend
 * deallocate for a punch. */
static int fx_zero(struct fuse_export *fx, uint64_t off, uint64_t len, bool punch)
{
	if (!fx_aligned(fx, off, len))
		return EINVAL;
	if (fx->caps.can_zero)
		return fx_io(fx, CB_IO_WRITE_ZEROES, punch ? CB_IO_MAY_TRIM : 0, off, len, NULL);
	return cb_zero_fill(fx_write_zero_chunk, fx, off, len);
}

static int fx_do_fallocate(struct fuse_export *fx, int mode, off_t off, off_t length)
{
	bool keep_size = mode & FALLOC_FL_KEEP_SIZE;
	uint64_t end = (uint64_t)off + (uint64_t)length;
	uint64_t len;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return EOPNOTSUPP;
	if (fx->read_only)
		return EROFS;
	/* The file cannot grow; within it every byte is already allocated. */
	if (end > fx_size(fx) && !keep_size)
		return ENOSPC;
	len = fx_clamp(fx, off, length);
	if (len == 0 || !(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))
		return 0;
	return fx_zero(fx, off, len, mode & FALLOC_FL_PUNCH_HOLE);
}

static void fx_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t length,
			 struct fuse_file_info *fi)
{
	fuse_reply_err(req, fx_do_fallocate(req_fx(req), mode, off, length));
}

static void fx_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	static const struct { const char *name; fuse_ino_t ino; } entries[] = {
		{ ".", FUSE_ROOT_ID }, { "..", FUSE_ROOT_ID }, { FX_DISK_NAME, FX_DISK_INO },
	};
	struct fuse_export *fx = req_fx(req);
	char buf[512];
	size_t used = 0;

	if (ino != FUSE_ROOT_ID || fx->file_ino == FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof buf)
		size = sizeof buf;
	for (size_t i = off; i < sizeof entries / sizeof entries[0]; i++) {
		struct stat st = { .st_ino = entries[i].ino };
		size_t n;

		st.st_mode = entries[i].ino == FX_DISK_INO ? S_IFREG : S_IFDIR;
		n = fuse_add_direntry(req, buf + used, size - used, entries[i].name, &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

/* Also the shutdown doorbell: stop() calls fstatfs() from its own thread, and
 * the worker that answers it ends the session.  Keying on the caller's thread
 * id means a df(1) racing with shutdown cannot end the loop before our own
 * request is answered, which would leave stop() waiting forever. */
static void fx_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_export *fx = req_fx(req);
	struct statvfs sv = {
		.f_bsize = FX_BUF_ALIGN,
		.f_frsize = FX_BUF_ALIGN,
		.f_blocks = fx_size(fx) / FX_BUF_ALIGN,
		.f_files = fx->file_ino == FUSE_ROOT_ID ? 1 : 2,
		.f_namemax = 255,
	};

	if (fuse_req_ctx(req)->pid == atomic_load(&fx->stop_tid))
		fuse_session_exit(fx->se);
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops fx_ops = {
	.init = fx_init,
	.lookup = fx_lookup,
	.getattr = fx_getattr,
	.setattr = fx_setattr,
	.open = fx_open,
	.read = fx_read,
	.write = fx_write,
	.write_buf = fx_write_buf,
	.fsync = fx_fsync,
	.fallocate = fx_fallocate,
	.readdir = fx_readdir,
	.statfs = fx_statfs,
};
