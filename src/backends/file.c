/* The file backend: a regular file or a block device on this host.
 *
 * Serves Cinder's "local" driver_volume_type (data.device_path).  Reads that
 * the page cache can satisfy run inline on the submitting thread
 * (RWF_NOWAIT), and so do buffered writes; flushes, FUA, trims, zeroing,
 * cache misses and all O_DIRECT I/O go to a small thread pool, so a slow
 * request does not hold up the requests behind it.  Servers may also move
 * payloads themselves: reads out of the file descriptor (read_fd), writes
 * into it (write_fd).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"
#include "io_pool.h"
#include "zero_fill.h"
#include "lib/error.h"

#define FILE_POOL_THREADS 8
/* Inline I/O costs the submitting thread the copy.  Up to here the copy is
 * cheaper than a hand-off to the pool; beyond it a pool thread overlaps the
 * copy with the network I/O of the requests behind it. */
#define FILE_INLINE_MAX (64u << 10)
#define FILE_BLOCK_MAX (32u << 20)

/* cachestat(2), Linux 6.5; Debian 12's headers predate it. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct file_cachestat_range {
	uint64_t off, len;
};
struct file_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

struct file_volume {
	int fd;
	bool is_block;
	bool direct_io;
	bool read_only;
	/* Cleared the first time the kernel refuses RWF_NOWAIT writes. */
	bool nowait_writes;
	/* Cleared when the kernel has no cachestat(2). */
	bool cachestat;
	uint64_t page_size;
	uint64_t size;
	uint32_t block_min;
	uint32_t logical_block_size;
	struct io_pool *pool;
};

static int full_pread(int fd, char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0) {	/* the file shrank under us: read zeroes */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int full_pwrite(int fd, const char *buf, size_t len, uint64_t off, int rwf)
{
	while (len) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		ssize_t n = pwritev2(fd, &iov, 1, off, rwf);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int write_zero_chunk(void *opaque, const void *buf, uint32_t len, uint64_t off)
{
	struct file_volume *f = opaque;

	return full_pwrite(f->fd, buf, len, off, 0);
}

static bool unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == ENODEV;
}

static int do_trim(struct file_volume *f, uint64_t off, uint64_t len)
{
	int r;

	if (f->is_block) {
		uint64_t range[2] = { off, len };

		r = ioctl(f->fd, BLKDISCARD, range);
	} else {
		r = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	}
	/* Trim is advisory: a device that cannot discard has done its job. */
	if (r == -1 && !unsupported(errno))
		return errno;
	return 0;
}

static int try_fast_zero(struct file_volume *f, uint64_t off, uint64_t len, bool may_trim)
{
	int r;

	if (f->is_block) {
		uint64_t range[2] = { off, len };

		r = ioctl(f->fd, BLKZEROOUT, range);
		return r == -1 ? errno : 0;
	}
	if (may_trim) {
		r = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		if (r == 0)
			return 0;
	}
	r = fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
	return r == -1 ? errno : 0;
}

static int do_write_zeroes(struct file_volume *f, const struct cb_io *io)
{
	int err = try_fast_zero(f, io->offset, io->length, io->flags & CB_IO_MAY_TRIM);

	if (err && unsupported(err)) {
		if (io->flags & CB_IO_FAST_ZERO)
			return ENOTSUP;
		err = cb_zero_fill(write_zero_chunk, f, io->offset, io->length);
	}
	if (!err && (io->flags & CB_IO_FUA) && fdatasync(f->fd) == -1)
		err = errno;
	return err;
}

static int do_flush(struct file_volume *f)
{
	return fdatasync(f->fd) == -1 ? errno : 0;
}

/* Runs inline on the submitting thread (file_submit), unlike a read: SEEK_DATA
 * and SEEK_HOLE read no data, only the filesystem's extent map, which is in
 * memory for a file in use (a metadata read at worst), so the answer costs
 * less than the hop to a pool thread would.  Each answer is a whole run of
 * one state, so one lseek pair is enough for CB_IO_ONE_EXTENT.  0 or an
 * errno value. */
static int file_extents(struct file_volume *f, struct cb_io *io)
{
	uint64_t offset = io->offset, end = io->offset + io->length;

	while (offset < end) {
		off_t data = lseek(f->fd, offset, SEEK_DATA);
		off_t next;
		bool hole;

		if (data == -1 && errno != ENXIO)
			return errno;
		hole = data == -1 || (uint64_t)data > offset;
		if (hole) {
			next = data == -1 ? (off_t)end : data;
		} else {
			next = lseek(f->fd, offset, SEEK_HOLE);
			if (next == -1)
				return errno;
		}
		if ((uint64_t)next > end)
			next = end;
		if (io->extent(io, offset, next - offset, hole) || (io->flags & CB_IO_ONE_EXTENT))
			break;
		offset = next;
	}
	return 0;
}

static int run_blocking(struct file_volume *f, struct cb_io *io)
{
	int err;

	switch (io->op) {
	case CB_IO_READ:
		return full_pread(f->fd, io->buf, io->length, io->offset);
	case CB_IO_WRITE:
		return full_pwrite(f->fd, io->buf, io->length, io->offset,
				   io->flags & CB_IO_FUA ? RWF_DSYNC : 0);
	case CB_IO_FLUSH:
		return do_flush(f);
	case CB_IO_TRIM:
		err = do_trim(f, io->offset, io->length);
		if (!err && (io->flags & CB_IO_FUA))
			err = do_flush(f);
		return err;
	case CB_IO_WRITE_ZEROES:
		return do_write_zeroes(f, io);
	case CB_IO_CACHE:
		posix_fadvise(f->fd, io->offset, io->length, POSIX_FADV_WILLNEED);
		return 0;
	case CB_IO_EXTENTS:
		return file_extents(f, io);
	}
	return EINVAL;
}

static void pool_run(void *ctx, struct cb_io *io)
{
	io->complete(io, run_blocking(ctx, io));
}

/* Returns true when the request was completed without blocking. */
static bool try_inline(struct file_volume *f, struct cb_io *io)
{
	struct iovec iov = { .iov_base = io->buf, .iov_len = io->length };
	ssize_t n;

	switch (io->op) {
	case CB_IO_READ:
		n = preadv2(f->fd, &iov, 1, io->offset, RWF_NOWAIT);
		break;
	case CB_IO_WRITE:
		if (io->flags & CB_IO_FUA)
			return false;
		if (!f->nowait_writes) {
			/* Without RWF_NOWAIT (ext4 buffered writes), a page-cache
			 * write is still far cheaper than a hop to the pool. */
			io->complete(io, run_blocking(f, io));
			return true;
		}
		n = pwritev2(f->fd, &iov, 1, io->offset, RWF_NOWAIT);
		if (n == -1 && errno == EOPNOTSUPP)
			f->nowait_writes = false;
		break;
	case CB_IO_CACHE:
		io->complete(io, run_blocking(f, io));
		return true;
	default:
		return false;
	}
	if (n == (ssize_t)io->length) {
		io->complete(io, 0);
		return true;
	}
	/* Short, EAGAIN or a real error: the pool retries it in full and
	 * reports whatever error persists. */
	return false;
}

static void file_submit(void *handle, struct cb_io *io)
{
	struct file_volume *f = handle;

	if (io->op == CB_IO_EXTENTS) {	/* inline: see file_extents */
		io->complete(io, run_blocking(f, io));
		return;
	}
	if (!f->direct_io && io->length <= FILE_INLINE_MAX && try_inline(f, io))
		return;
	io_pool_push(f->pool, io);
}

/* Whether every page of the range is in the page cache; false when the
 * kernel cannot tell. */
static bool range_cached(struct file_volume *f, uint64_t offset, uint32_t length)
{
	uint64_t first = offset / f->page_size;
	uint64_t end = (offset + length + f->page_size - 1) / f->page_size;
	struct file_cachestat_range range = { offset, length };
	struct file_cachestat cs;

	if (!f->cachestat || length == 0)
		return false;
	if (syscall(__NR_cachestat, f->fd, &range, &cs, 0) == -1) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			f->cachestat = false;
		return false;
	}
	return cs.nr_cache == end - first;
}

/* Through the page cache only, and only when every page of the range is
 * cached, as the caller sends it on a thread that must not wait for a disk. */
static int file_read_fd(void *handle, uint64_t offset, uint32_t length)
{
	struct file_volume *f = handle;

	return !f->direct_io && range_cached(f, offset, length) ? f->fd : -1;
}

static int file_write_fd(void *handle, uint64_t offset, uint32_t length)
{
	struct file_volume *f = handle;

	(void)offset;
	(void)length;
	return f->direct_io || f->read_only ? -1 : f->fd;
}

static int open_device(const char *path, const struct cb_open_opts *opts)
{
	int flags = (opts->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd;

	if (opts->direct_io)
		flags |= O_DIRECT;
	fd = open(path, flags);
	if (fd == -1) {
		int err = errno;

		if (err == EINVAL && opts->direct_io)
			cb_set_error(err, "%s does not support direct I/O (O_DIRECT); "
				     "open it without the direct-io option", path);
		else
			cb_set_error_errno(err, "cannot open %s", path);
	}
	return fd;
}

static int probe_geometry(struct file_volume *f, const char *path)
{
	struct stat st;
	int lbs = 512;

	if (fstat(f->fd, &st) == -1) {
		cb_set_error_errno(errno, "cannot stat %s", path);
		return -1;
	}
	f->is_block = S_ISBLK(st.st_mode);
	if (f->is_block) {
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) == -1) {
			cb_set_error_errno(errno, "cannot get the size of %s", path);
			return -1;
		}
		ioctl(f->fd, BLKSSZGET, &lbs);
	} else if (S_ISREG(st.st_mode)) {
		f->size = st.st_size;
	} else {
		cb_set_error(EINVAL, "%s is neither a regular file nor a block device", path);
		return -1;
	}
	f->logical_block_size = lbs;
	/* O_DIRECT needs sector-aligned I/O; through the page cache any size works. */
	f->block_min = f->direct_io ? (uint32_t)lbs : 1;
	return 0;
}

static int file_current_size(void *handle, uint64_t *size)
{
	struct file_volume *f = handle;
	struct stat st;

	if (f->is_block ? ioctl(f->fd, BLKGETSIZE64, size) == -1 : fstat(f->fd, &st) == -1) {
		cb_set_error_errno(errno, "cannot get the volume's size");
		return -1;
	}
	if (!f->is_block)
		*size = (uint64_t)st.st_size;
	return 0;
}

static void file_close(void *handle)
{
	struct file_volume *f = handle;

	io_pool_free(f->pool);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static void *file_open(const json_t *data, const struct cb_open_opts *opts)
{
	const char *path = json_string_value(json_object_get(data, "device_path"));
	struct file_volume *f;

	if (!path || !*path) {
		cb_set_error(EINVAL, "connection_info data has no \"device_path\" string");
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	f->direct_io = opts->direct_io;
	f->read_only = opts->read_only;
	f->nowait_writes = true;
	f->cachestat = true;
	f->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	f->fd = open_device(path, opts);
	if (f->fd == -1 || probe_geometry(f, path) == -1)
		goto fail;
	f->pool = io_pool_new(FILE_POOL_THREADS, pool_run, f);
	if (!f->pool)
		goto fail;
	return f;
fail:
	file_close(f);
	return NULL;
}

static void file_get_caps(void *handle, struct cb_backend_caps *caps)
{
	struct file_volume *f = handle;

	*caps = (struct cb_backend_caps){
		.size = f->size,
		.block_min = f->block_min,
		.block_pref = 4096,
		.block_max = FILE_BLOCK_MAX,
		.logical_block_size = f->logical_block_size,
		.read_only = f->read_only,
		.can_flush = true,
		.can_fua = true,
		.can_trim = true,
		.can_zero = true,
		.can_fast_zero = true,
		.can_cache = true,
		.can_extents = !f->is_block,
		.multi_conn = true,
	};
}

static const char *const file_volume_types[] = { "local", NULL };

const struct cb_backend_ops cb_file_backend = {
	.name = "file",
	.volume_types = file_volume_types,
	.open = file_open,
	.get_caps = file_get_caps,
	.submit = file_submit,
	.read_fd = file_read_fd,
	.write_fd = file_write_fd,
	.current_size = file_current_size,
	.close = file_close,
};
