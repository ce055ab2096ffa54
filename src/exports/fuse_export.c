/* The volume as a file through FUSE: the session's life.
 *
 * One regular file backed by the volume, either mounted over an empty
 * regular file (the FUSE root is the file) or as "disk" in a one-entry
 * directory.  This file mounts the session, runs libfuse's multi-threaded
 * loop on a thread of its own, and ends it; the requests that loop runs are
 * answered by fuse_ops.c.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fuse_export.h"
#include "fuse_internal.h"
#include "lib/error.h"
#include "lib/log.h"

/* Above libfuse's ten workers: an idle worker is never torn down, because
 * recreating threads under bursty load costs more than the memory. */
#define FX_MAX_IDLE_THREADS 16
/* What libfuse reserves ahead of a request's payload in its buffer. */
#define FX_REQ_HEADER 4096u

/* libfuse logs to stderr by default; a library must not. */
static void fx_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	enum cb_log_level cl = CB_LOG_DEBUG;
	char msg[512];
	size_t n;

	if (level <= FUSE_LOG_ERR)
		cl = CB_LOG_ERROR;
	else if (level == FUSE_LOG_WARNING)
		cl = CB_LOG_WARNING;
	else if (level <= FUSE_LOG_INFO)
		cl = CB_LOG_INFO;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	cb_log(cl, "libfuse: %s", msg);
}

/* Decides between file and directory mode; returns the absolute mountpoint. */
static char *check_mountpoint(const char *mountpoint, bool *over_file)
{
	struct stat st;
	char *real;

	if (stat(mountpoint, &st) == -1) {
		if (errno == ENOENT)
			cb_set_error(ENOENT, "FUSE mountpoint %s does not exist: create an empty "
				     "file or a directory there first", mountpoint);
		else
			cb_set_error_errno(errno, "cannot stat FUSE mountpoint %s", mountpoint);
		return NULL;
	}
	if (S_ISREG(st.st_mode) && st.st_size != 0) {
		cb_set_error(ENOTEMPTY, "FUSE mountpoint %s is a file of %lld bytes, which the "
			     "mount would hide: give an empty file or a directory",
			     mountpoint, (long long)st.st_size);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		cb_set_error(EINVAL, "FUSE mountpoint %s is neither a regular file nor a "
			     "directory", mountpoint);
		return NULL;
	}
	*over_file = S_ISREG(st.st_mode);
	real = realpath(mountpoint, NULL);
	if (!real)
		cb_set_error_errno(errno, "cannot resolve FUSE mountpoint %s", mountpoint);
	return real;
}

static int setup_geometry(struct fuse_export *fx)
{
	uint32_t bmin = fx->caps.block_min;

	if ((bmin & (bmin - 1)) != 0 || bmin > FX_MAX_IO || fx->caps.block_max < bmin) {
		cb_set_error(EINVAL, "backend block sizes (min %u, max %u) cannot be exported "
			     "through FUSE", bmin, fx->caps.block_max);
		return -1;
	}
	fx->chunk_max = fx->caps.block_max - fx->caps.block_max % bmin;
	fx->buf_align = bmin > FX_BUF_ALIGN ? bmin : FX_BUF_ALIGN;
	fx->buf_size = FX_MAX_IO + 2 * (size_t)fx->buf_align;
	if (pthread_key_create(&fx->buf_key, free) != 0) {
		cb_set_error(EAGAIN, "cannot create a FUSE thread key");
		return -1;
	}
	fx->buf_key_created = true;
	return 0;
}

static struct fuse_session *new_session(struct fuse_export *fx)
{
	char opts[256];
	char *argv[] = { "cinder-brick", "-o", opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;

	/* default_permissions: the kernel enforces the 0600/0400 mode, so
	 * handlers need no access checks of their own.  auto_unmount for
	 * users: libfuse falls back to fusermount3 only when mount(2) says
	 * EPERM, not when /dev/fuse itself is closed to them, and this option
	 * always takes the fusermount3 path; it also unmounts if we crash. */
	snprintf(opts, sizeof opts, "fsname=cinder-brick,subtype=cinder-brick,"
		 "default_permissions,max_read=%u%s%s", FX_MAX_IO,
		 fx->read_only ? ",ro" : "", geteuid() != 0 ? ",auto_unmount" : "");
	se = fuse_session_new(&args, &fx_ops, sizeof fx_ops, fx);
	fuse_opt_free_args(&args);
	if (!se)
		cb_set_error(EINVAL, "cannot create a FUSE session");
	return se;
}

static int mount_session(struct fuse_export *fx, const char *mountpoint)
{
	fx->se = new_session(fx);
	if (!fx->se)
		return -1;
	if (fuse_session_mount(fx->se, mountpoint) != 0) {
		cb_set_error(EIO, "cannot mount FUSE at %s: needs /dev/fuse, and fusermount3 "
			     "when not running as root", mountpoint);
		return -1;
	}
	fx->wake_fd = open(mountpoint, O_PATH | O_CLOEXEC);
	if (fx->wake_fd == -1) {
		cb_set_error_errno(errno, "cannot open the FUSE mount %s", mountpoint);
		return -1;
	}
	return 0;
}

/* The serving thread owns the mount: whatever ends the loop, it unmounts, and
 * closing the last /dev/fuse descriptor then fails any request still queued
 * instead of leaving its caller blocked. */
static void *serve(void *arg)
{
	struct fuse_export *fx = arg;
	/* Cloning /dev/fuse per worker spreads the reply path across queues,
	 * but needs the device to be openable, which it is not for a user
	 * who mounted through fusermount3. */
	struct fuse_loop_config cfg = {
		.clone_fd = access("/dev/fuse", R_OK | W_OK) == 0,
		.max_idle_threads = FX_MAX_IDLE_THREADS,
	};
	int r = fuse_session_loop_mt(fx->se, &cfg);

	if (r < 0)
		cb_log(CB_LOG_ERROR, "FUSE export of %s failed: %s", fx->file, strerror(-r));
	else if (atomic_load(&fx->stop_tid) == -1)
		cb_log(CB_LOG_WARNING, "FUSE export of %s was unmounted from outside", fx->file);
	fuse_session_unmount(fx->se);
	return NULL;
}

static void fx_free(struct fuse_export *fx)
{
	if (fx->wake_fd >= 0)
		close(fx->wake_fd);
	/* Unmounting is a no-op once serve() has done it. */
	if (fx->se) {
		fuse_session_unmount(fx->se);
		fuse_session_destroy(fx->se);
	}
	if (fx->buf_key_created)
		pthread_key_delete(fx->buf_key);
	free(fx->file);
	free(fx->mountpoint);
	free(fx);
}

/*
 * libfuse splices a request out of /dev/fuse only into a pipe that holds all
 * of it, max_write plus its header, and without CAP_SYS_RESOURCE a pipe
 * grows no larger than /proc/sys/fs/pipe-max-size (1 MiB by default).  Then
 * a write of 1 MiB goes in two halves that are spliced, which costs less than
 * a whole one copied through this process.
 */
static uint32_t fx_splice_max_write(void)
{
	uint32_t max = FX_MAX_IO;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return max;
	while (max > 64 * 1024 && fcntl(p[1], F_SETPIPE_SZ, max + FX_REQ_HEADER) == -1)
		max /= 2;
	close(p[0]);
	close(p[1]);
	return max;
}

static struct fuse_export *fx_new(struct cb_backend *backend, bool read_only)
{
	struct fuse_export *fx = calloc(1, sizeof *fx);

	if (!fx) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	fx->backend = backend;
	fx->caps = backend->caps;
	fx->read_only = read_only || backend->caps.read_only;
	/* An empty range: whether the backend has such a file at all. */
	fx->splice_writes = !fx->read_only && cb_backend_write_fd(backend, 0, 0) >= 0;
	fx->max_write = fx->splice_writes ? fx_splice_max_write() : FX_MAX_IO;
	fx->uid = getuid();
	fx->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fx->started);
	fx->wake_fd = -1;
	atomic_init(&fx->stop_tid, -1);
	return fx;
}

static int set_file_path(struct fuse_export *fx, const char *real, bool over_file)
{
	int r;

	fx->file_ino = over_file ? FUSE_ROOT_ID : FX_DISK_INO;
	if (over_file)
		r = (fx->file = strdup(real)) ? 0 : -1;
	else
		r = asprintf(&fx->file, "%s/" FX_DISK_NAME, real) < 0 ? -1 : 0;
	if (r == -1) {
		fx->file = NULL;
		cb_set_error(ENOMEM, "out of memory");
	}
	return r;
}

struct fuse_export *fuse_export_start(struct cb_backend *backend, const char *mountpoint,
				      bool read_only)
{
	struct fuse_export *fx;
	bool over_file;
	char *real;
	int err;

	real = check_mountpoint(mountpoint, &over_file);
	if (!real)
		return NULL;
	fx = fx_new(backend, read_only);
	if (!fx)
		goto fail;
	fuse_set_log_func(fx_log);
	if (set_file_path(fx, real, over_file) == -1 || setup_geometry(fx) == -1 ||
	    mount_session(fx, real) == -1)
		goto fail;
	err = pthread_create(&fx->thread, NULL, serve, fx);
	if (err) {
		cb_set_error_errno(err, "cannot start the FUSE thread");
		goto fail;
	}
	fx->mountpoint = real;
	return fx;
fail:
	free(real);
	if (fx)
		fx_free(fx);
	return NULL;
}

const char *fuse_export_file(const struct fuse_export *fx)
{
	return fx->file;
}

const char *fuse_export_mountpoint(const struct fuse_export *fx)
{
	return fx->mountpoint;
}

int fuse_export_grow(struct fuse_export *fx)
{
	/* A negative offset: the attributes only; the data cached stays true. */
	int r = fuse_lowlevel_notify_inval_inode(fx->se, fx->file_ino, -1, 0);
	struct stat st;

	/* ENOENT: the kernel has nothing cached of the file. */
	if (r < 0 && r != -ENOENT) {
		cb_set_error(-r, "cannot tell the kernel that %s grew: %s", fx->file,
			     strerror(-r));
		return -1;
	}
	/* The attributes are only marked stale: a loop device reads the
	 * inode's size as it is, so have the kernel fetch it now. */
	if (stat(fx->file, &st) == -1) {
		cb_set_error_errno(errno, "cannot stat %s", fx->file);
		return -1;
	}
	return 0;
}

void fuse_export_stop(struct fuse_export *fx)
{
	struct statfs sfs;

	if (!fx)
		return;
	atomic_store(&fx->stop_tid, gettid());
	/* The doorbell: the worker that answers this thread's statfs ends the
	 * session (fx_statfs in fuse_ops.c says why it is keyed on the thread).
	 * It fails at once with ENOTCONN if the connection is already gone. */
	while (fstatfs(fx->wake_fd, &sfs) == -1 && errno == EINTR)
		;
	close(fx->wake_fd);
	fx->wake_fd = -1;
	pthread_join(fx->thread, NULL);
	fx_free(fx);
}
