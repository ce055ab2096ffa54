/* Loop devices through the kernel's ioctl interface, without losetup.
 *
 * LOOP_CONFIGURE sets up a device in one step, so no other process can see
 * it half-configured.  Detaching is explicit (no autoclear), because the
 * export must know the device is gone before it stops serving the file.
 * Which file a device is attached to comes from sysfs, the one place that
 * answers it for any process, including one that lost the device's name.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "lib/error.h"
#include "lib/log.h"

#define LOOP_CONTROL "/dev/loop-control"
#define LOOP_MAJOR 7
#define LOOP_SECTOR 512
/* Another process may take each free device we are offered. */
#define ATTACH_ATTEMPTS 16
/* Bounded wait for a device that is still being released, e.g. just after
 * a umount of the filesystem on it. */
#define DETACH_ATTEMPTS 50
#define DETACH_RETRY_NS (20 * 1000 * 1000)

/* The kernel numbers loop minors by partition shift, so trust sysfs over
 * the plain minor = N of the default configuration. */
static dev_t loop_devno(int n)
{
	char path[64];
	unsigned int maj, min;
	FILE *f;
	int r;

	snprintf(path, sizeof path, "/sys/block/loop%d/dev", n);
	f = fopen(path, "re");
	if (!f)
		return makedev(LOOP_MAJOR, n);
	r = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	return r == 2 ? makedev(maj, min) : makedev(LOOP_MAJOR, n);
}

/* Without udev nobody creates the node of a freshly added device. */
static int open_loop_node(int n, const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mknod(dev, S_IFBLK | 0660, loop_devno(n)) == -1 && errno != EEXIST)
		return -1;
	return open(dev, O_RDWR | O_CLOEXEC);
}

/* The block size is always explicit: left at 0, the kernel picks one from
 * the backing file (on some versions from its direct I/O alignment), which
 * says nothing about the volume's. */
static void fill_config(struct loop_config *cfg, int backing_fd, const char *path,
			bool read_only, uint32_t block_size)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->fd = backing_fd;
	cfg->block_size = block_size;
	cfg->info.lo_flags = LO_FLAGS_DIRECT_IO | (read_only ? LO_FLAGS_READ_ONLY : 0);
	snprintf((char *)cfg->info.lo_file_name, sizeof cfg->info.lo_file_name,
		 "cinder-brick:%s", path);
}

static void warn_buffered(const char *dev, const char *path)
{
	cb_log(CB_LOG_WARNING, "%s: direct I/O refused on %s, using buffered I/O", dev, path);
}

/* Older kernels refuse direct I/O with EINVAL, newer ones silently drop the
 * flag; either way the device still works, only through the page cache.  A
 * refused block size is EINVAL too, and fails both attempts. */
static int configure(int loop_fd, struct loop_config *cfg, const char *dev, const char *path)
{
	struct loop_info64 info;

	if (ioctl(loop_fd, LOOP_CONFIGURE, cfg) == -1) {
		if (errno != EINVAL)
			return -1;
		cfg->info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
		if (ioctl(loop_fd, LOOP_CONFIGURE, cfg) == -1)
			return -1;
		warn_buffered(dev, path);
		return 0;
	}
	if (ioctl(loop_fd, LOOP_GET_STATUS64, &info) == 0 &&
	    !(info.lo_flags & LO_FLAGS_DIRECT_IO))
		warn_buffered(dev, path);
	return 0;
}

/* One attempt on the device the kernel calls free.  Returns 0, EBUSY when
 * someone else took it first, or another errno with the error set. */
static int attach_free(int ctl, struct loop_config *cfg, const char *path, char *dev,
		       size_t devlen)
{
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	int fd, err;

	if (n < 0) {
		err = errno;
		cb_set_error_errno(err, "no free loop device");
		return err;
	}
	if ((size_t)snprintf(dev, devlen, "/dev/loop%d", n) >= devlen) {
		cb_set_error(ENAMETOOLONG, "loop device name does not fit in %zu bytes", devlen);
		return ENAMETOOLONG;
	}
	fd = open_loop_node(n, dev);
	if (fd == -1) {
		err = errno;
		cb_set_error_errno(err, "cannot open %s", dev);
		return err;
	}
	err = configure(fd, cfg, dev, path) == -1 ? errno : 0;
	close(fd);
	if (err == EINVAL && cfg->block_size != LOOP_SECTOR)
		cb_set_error(err, "cannot attach %s to %s: this kernel refuses loop devices "
			     "with %u-byte logical blocks, the volume's; with 512-byte ones "
			     "its partition table and filesystems would be misread, so none "
			     "is attached: serve the volume without a loop device (as a "
			     "file or over NBD) instead", dev, path, cfg->block_size);
	else if (err && err != EBUSY)
		cb_set_error_errno(err, "cannot attach %s to %s", dev, path);
	return err;
}

/* What any kernel might accept.  Which sizes a kernel takes varies: up to
 * 64 KiB where it supports blocks larger than a page, up to the page size
 * on older ones; LOOP_CONFIGURE refuses the others with EINVAL. */
static bool valid_block_size(uint32_t size)
{
	return size >= LOOP_SECTOR && (size & (size - 1)) == 0;
}

int loop_attach(const char *path, bool read_only, uint32_t block_size, char *dev,
		size_t devlen)
{
	struct loop_config cfg;
	int backing, ctl, err = EBUSY;

	if (block_size == 0)
		block_size = LOOP_SECTOR;
	if (!valid_block_size(block_size)) {
		cb_set_error(EINVAL, "cannot attach a loop device to %s: a logical block size "
			     "of %u bytes is not a power of two of at least 512", path,
			     block_size);
		return -1;
	}
	backing = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (backing == -1) {
		cb_set_error_errno(errno, "cannot open %s for the loop device", path);
		return -1;
	}
	ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl == -1) {
		cb_set_error_errno(errno, "cannot open %s (is the loop module loaded, and "
				   "are we root?)", LOOP_CONTROL);
		close(backing);
		return -1;
	}
	fill_config(&cfg, backing, path, read_only, block_size);
	for (int i = 0; i < ATTACH_ATTEMPTS && err == EBUSY; i++)
		err = attach_free(ctl, &cfg, path, dev, devlen);
	if (err == EBUSY)
		cb_set_error(EBUSY, "every free loop device was taken by another process "
			     "before %s could be attached", path);
	/* The loop device holds its own reference to the file. */
	close(ctl);
	close(backing);
	return err ? -1 : 0;
}

/* /dev/loopN, or a bare loopN, as /sys/block names it. */
static const char *sysfs_name(const char *dev)
{
	const char *slash = strrchr(dev, '/');

	return slash ? slash + 1 : dev;
}

/* /sys/block/<dev>/<attr>, open for reading, or NULL. */
static FILE *open_sysfs(const char *dev, const char *attr)
{
	char path[128];

	snprintf(path, sizeof path, "/sys/block/%s/%s", sysfs_name(dev), attr);
	return fopen(path, "re");
}

/* The file the kernel says dev is attached to, as it printed its path when
 * the device was set up; false when dev is not attached (or no loop device). */
static bool read_backing_file(const char *dev, char *buf, size_t len)
{
	FILE *f = open_sysfs(dev, "loop/backing_file");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool still_attached(const char *dev)
{
	char backing[PATH_MAX];

	return read_backing_file(dev, backing, sizeof backing);
}

/* What the kernel counts of dev's requests (/sys/block/loopN/stat):
 * reads and writes completed, and requests in flight.  0 or -1. */
struct io_counts {
	unsigned long done, in_flight;
};

static int read_io_counts(const char *dev, struct io_counts *c)
{
	unsigned long reads, writes, skip;
	FILE *f = open_sysfs(dev, "stat");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lu %lu %lu %lu %lu %lu %lu %lu %lu", &reads, &skip, &skip, &skip,
		   &writes, &skip, &skip, &skip, &c->in_flight);
	fclose(f);
	c->done = reads + writes;
	return n == 9 ? 0 : -1;
}

/* A holder with requests in flight may close once they complete.  While
 * none completes, the storage may be stuck: the wait has no bound of its
 * own (the caller's stop has one: cb_export_abort).  A request that
 * completes shows a holder still at work, which keeps the device. */
static void wait_stuck_holder(const char *dev)
{
	const struct timespec delay = { .tv_nsec = DETACH_RETRY_NS };
	struct io_counts first, now;

	if (read_io_counts(dev, &first) == -1)
		return;
	now = first;
	while (now.in_flight && now.done == first.done && still_attached(dev) &&
	       read_io_counts(dev, &now) == 0)
		nanosleep(&delay, NULL);
}

bool loop_backs(const char *dev, const char *path)
{
	char backing[PATH_MAX];

	return read_backing_file(dev, backing, sizeof backing) && strcmp(backing, path) == 0;
}

int loop_find(const char *path, char *dev, size_t devlen)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int r = -1;

	dev[0] = '\0';
	if (!d) {
		cb_set_error_errno(errno, "cannot list /sys/block");
		return -1;
	}
	while ((e = readdir(d)) &&
	       !(strncmp(e->d_name, "loop", 4) == 0 && loop_backs(e->d_name, path)))
		;
	if (!e)
		cb_set_error(ENOENT, "no loop device is attached to %s", path);
	else if ((size_t)snprintf(dev, devlen, "/dev/%s", e->d_name) >= devlen)
		cb_set_error(ENAMETOOLONG, "/dev/%s does not fit in %zu bytes", e->d_name,
			     devlen);
	else
		r = 0;
	if (r)
		dev[0] = '\0';
	closedir(d);
	return r;
}

int loop_set_capacity(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || ioctl(fd, LOOP_SET_CAPACITY, 0) == -1) {
		cb_set_error_errno(errno, "cannot grow %s to its file's new size", dev);
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* LOOP_CLR_FD on a device that others hold open only schedules the detach
 * for their last close, so claim the device exclusively first: that fails
 * while a filesystem is mounted on it.  Returns 0 or an errno; *scheduled
 * tells whether the kernel has been asked to detach. */
static int try_detach(const char *dev, bool *scheduled)
{
	int fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	int err = 0;

	if (fd == -1)
		return errno;
	if (ioctl(fd, LOOP_CLR_FD, 0) == -1 && errno != ENXIO)
		err = errno;
	*scheduled = !err;
	/* Our close is the last one, unless someone else has it open. */
	close(fd);
	if (!err && still_attached(dev))
		err = EBUSY;
	return err;
}

int loop_detach(const char *dev)
{
	const struct timespec retry_delay = { .tv_nsec = DETACH_RETRY_NS };
	bool scheduled = false;
	int err = try_detach(dev, &scheduled);

	for (int i = 1; i < DETACH_ATTEMPTS && err == EBUSY; i++) {
		nanosleep(&retry_delay, NULL);
		err = try_detach(dev, &scheduled);
	}
	if (err == EBUSY && scheduled) {
		wait_stuck_holder(dev);
		if (!still_attached(dev))
			return 0;
		cb_set_error(EBUSY, "%s is still held open by another process: it will "
			     "detach when that process closes it", dev);
		return -1;
	}
	if (err == EBUSY) {
		cb_set_error(EBUSY, "%s is still in use, probably mounted: unmount it first",
			     dev);
		return -1;
	}
	if (err) {
		cb_set_error_errno(err, "cannot detach %s", dev);
		return -1;
	}
	return 0;
}
