/* Loop devices through the kernel's ioctl interface, without losetup.
 *
 * LOOP_CONFIGURE sets up a device in one step, so no other process can see
 * it half-configured.  Detaching is explicit (no autoclear), because the
 * export must know the device is gone before it stops serving the file.
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

static void fill_config(struct loop_config *cfg, int backing_fd, const char *path,
			bool read_only)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->fd = backing_fd;
	cfg->info.lo_flags = LO_FLAGS_DIRECT_IO | (read_only ? LO_FLAGS_READ_ONLY : 0);
	snprintf((char *)cfg->info.lo_file_name, sizeof cfg->info.lo_file_name,
		 "cinder-brick:%s", path);
}

static void warn_buffered(const char *dev, const char *path)
{
	cb_log(CB_LOG_WARNING, "%s: direct I/O refused on %s, using buffered I/O", dev, path);
}

/* Older kernels refuse direct I/O with EINVAL, newer ones silently drop the
 * flag; either way the device still works, only through the page cache. */
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
	if (err && err != EBUSY)
		cb_set_error_errno(err, "cannot attach %s to %s", dev, path);
	return err;
}

int loop_attach(const char *path, bool read_only, char *dev, size_t devlen)
{
	struct loop_config cfg;
	int backing, ctl, err = EBUSY;

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
	fill_config(&cfg, backing, path, read_only);
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

static bool still_attached(const char *dev)
{
	char path[96];

	snprintf(path, sizeof path, "/sys/block/%s/loop/backing_file", strrchr(dev, '/') + 1);
	return access(path, F_OK) == 0;
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

bool loop_backs(const char *dev, const char *path)
{
	char sys[128], backing[PATH_MAX] = "";
	const char *name = strrchr(dev, '/');
	FILE *f;

	if (!name)
		return false;
	snprintf(sys, sizeof sys, "/sys/block/%s/loop/backing_file", name + 1);
	f = fopen(sys, "re");
	if (!f)
		return false;
	if (!fgets(backing, sizeof backing, f))
		backing[0] = '\0';
	fclose(f);
	backing[strcspn(backing, "\n")] = '\0';
	return strcmp(backing, path) == 0;
}

int loop_find(const char *path, char *dev, size_t len)
{
	struct dirent *e;
	DIR *d = opendir("/sys/block");

	dev[0] = '\0';
	while (d && !dev[0] && (e = readdir(d))) {
		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		snprintf(dev, len, "/dev/%s", e->d_name);
		if (!loop_backs(dev, path))
			dev[0] = '\0';
	}
	if (d)
		closedir(d);
	return dev[0] ? 0 : -1;
}

bool loop_busy(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd == -1 && errno == EBUSY;
}
