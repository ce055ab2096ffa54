/* /dev/nbdN: see kernel_nbd.h.  What is common to both interfaces lives
 * here: checking the parameters, the way out (flush, disconnect, wait) and
 * what sysfs says of a device. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/nbd.h>

#include "kernel_nbd_internal.h"
#include "lib/error.h"
#include "lib/log.h"

extern char **environ;

static int check_params(const struct kernel_nbd_params *p)
{
	uint32_t b = p->block_size;

	if (b < 512 || b > 4096 || (b & (b - 1))) {
		cb_set_error(EINVAL, "the kernel's nbd takes block sizes of 512 to 4096 bytes, "
			     "not %" PRIu32, b);
		return -1;
	}
	if (p->size == 0 || p->size % b) {
		cb_set_error(EINVAL, "a volume of %" PRIu64 " bytes is no whole number of "
			     "%" PRIu32 "-byte blocks", p->size, b);
		return -1;
	}
	if (p->nsocks < 1 || (p->nsocks > 1 && !(p->flags & NBD_FLAG_CAN_MULTI_CONN))) {
		cb_set_error(EINVAL, "%d connections to a volume whose backend cannot serve "
			     "more than one coherently", p->nsocks);
		return -1;
	}
	if (p->identifier && strlen(p->identifier) >= KERNEL_NBD_MAX_IDENTIFIER) {
		cb_set_error(EINVAL, "nbd backend identifier longer than %d bytes",
			     KERNEL_NBD_MAX_IDENTIFIER - 1);
		return -1;
	}
	return 0;
}

static int read_sysfs(int index, const char *attr, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/sys/block/nbd%d/%s", index, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		cb_set_error_errno(errno, "cannot read %s", path);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0) {
		cb_set_error_errno(errno, "cannot read %s", path);
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Whether the kernel has the device configured, its server alive or not. */
static bool connected(int index)
{
	char path[64];
	bool connected;

	if (nbd_netlink_status(index, &connected) == 0)
		return connected;
	snprintf(path, sizeof path, "/sys/block/nbd%d/pid", index);
	return access(path, F_OK) == 0;
}

static struct kernel_nbd *kernel_nbd_new(int index, enum kernel_nbd_interface how)
{
	struct kernel_nbd *k = calloc(1, sizeof *k);

	if (!k) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	k->index = index;
	k->how = how;
	k->fd = -1;
	if (index >= 0)
		snprintf(k->device, sizeof k->device, "/dev/nbd%d", index);
	return k;
}

/* A device stays read-only after a read-only mapping (the flag is the
 * disk's, not the connection's), so every connect says which it is. */
static void set_read_only(const struct kernel_nbd *k, int ro)
{
	int fd = open(k->device, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || ioctl(fd, BLKROSET, &ro) == -1)
		cb_log(CB_LOG_WARNING, "%s: cannot make it %s: %m", k->device,
		       ro ? "read-only" : "writable");
	if (fd != -1)
		close(fd);
}

static int connect_netlink(struct kernel_nbd *k, const struct kernel_nbd_params *p)
{
	if (nbd_netlink_connect(p, &k->index) == -1)
		return -1;
	snprintf(k->device, sizeof k->device, "/dev/nbd%d", k->index);
	return 0;
}

struct kernel_nbd *kernel_nbd_connect(const struct kernel_nbd_params *p,
				      enum kernel_nbd_interface how)
{
	struct kernel_nbd *k;
	int r;

	if (check_params(p) == -1)
		return NULL;
	if (how == KERNEL_NBD_ANY && nbd_netlink_available()) {
		how = KERNEL_NBD_NETLINK;
	} else if (how == KERNEL_NBD_ANY) {
		char why[160];

		if (!kernel_nbd_available(why, sizeof why)) {
			cb_set_error(ENOTSUP, "no /dev/nbdN: %s", why);
			return NULL;
		}
		how = KERNEL_NBD_IOCTL;
		cb_log(CB_LOG_DEBUG, "the kernel has no nbd netlink family: using the "
		       "ioctl interface, whose devices end with their server");
	}
	k = kernel_nbd_new(-1, how);
	if (!k)
		return NULL;
	r = how == KERNEL_NBD_NETLINK ? connect_netlink(k, p) : nbd_ioctl_connect(k, p);
	if (r == -1) {
		free(k);
		return NULL;
	}
	snprintf(k->identifier, sizeof k->identifier, "%s", p->identifier ? p->identifier : "");
	set_read_only(k, !!(p->flags & NBD_FLAG_READ_ONLY));
	return k;
}

const char *kernel_nbd_device(const struct kernel_nbd *k)
{
	return k->device;
}

int kernel_nbd_index(const struct kernel_nbd *k)
{
	return k->index;
}

enum kernel_nbd_interface kernel_nbd_interface(const struct kernel_nbd *k)
{
	return k->how;
}

/* The kernel lets go of a netlink device asynchronously, once its receive
 * workers are done; a new mapping before that races (EBUSY). */
static int wait_released(const struct kernel_nbd *k)
{
	struct timespec step = { 0, 2000000 };
	int i;

	for (i = 0; i < 15000; i++) {
		if (!connected(k->index))
			return 0;
		nanosleep(&step, NULL);
	}
	cb_set_error(ETIMEDOUT, "%s is still connected 30 s after its disconnect", k->device);
	return -1;
}

int kernel_nbd_disconnect(struct kernel_nbd *k, bool flush)
{
	int fd, r;

	/* Exclusive: fails while a filesystem is mounted on it or another
	 * program claimed it, and keeps either from starting meanwhile. */
	fd = open(k->device, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd == -1) {
		cb_set_error_errno(errno, "%s is in use (mounted, or held open): unmount it "
				   "or close it first", k->device);
		if (errno == EBUSY)
			return -1;
	} else if (flush && fsync(fd) == -1) {
		cb_log(CB_LOG_WARNING, "%s: flushing before the disconnect: %m", k->device);
	}
	if (k->how == KERNEL_NBD_IOCTL)
		r = nbd_ioctl_disconnect(k);
	else
		r = nbd_netlink_disconnect(k->index);
	if (fd != -1)
		close(fd);
	if (r == 0 && k->how == KERNEL_NBD_NETLINK)
		r = wait_released(k);
	return r;
}

void kernel_nbd_free(struct kernel_nbd *k)
{
	if (!k)
		return;
	if (k->fd != -1)
		nbd_ioctl_disconnect(k);
	free(k);
}

/* A netlink device waits for a new server (its dead-connection timeout)
 * once its sockets are shut down, unless disconnected: that fails what
 * it holds at once.  An ioctl device has no such wait: the kernel shuts
 * it down itself when its sockets fail. */
void kernel_nbd_abort(int index, enum kernel_nbd_interface how)
{
	if (how == KERNEL_NBD_NETLINK && nbd_netlink_disconnect(index) == -1)
		cb_log(CB_LOG_WARNING, "%s", cb_get_error());
}

struct kernel_nbd *kernel_nbd_adopt(int index)
{
	return kernel_nbd_new(index, KERNEL_NBD_NETLINK);
}

int kernel_nbd_reconfigure(struct kernel_nbd *k, const struct kernel_nbd_params *p)
{
	char id[KERNEL_NBD_MAX_IDENTIFIER];

	if (!connected(k->index)) {
		cb_set_error(ENODEV, "%s is no longer connected: its dead-connection "
			     "timeout passed, or it was disconnected", k->device);
		return -1;
	}
	if (kernel_nbd_identifier(k->index, id, sizeof id) == -1)
		return -1;
	if (!p->identifier || strcmp(id, p->identifier) != 0) {
		cb_set_error(EINVAL, "%s serves \"%s\", not \"%s\": refusing to serve "
			     "another volume on it", k->device, id,
			     p->identifier ? p->identifier : "");
		return -1;
	}
	if (nbd_netlink_reconfigure(k->index, p) == 0) {
		snprintf(k->identifier, sizeof k->identifier, "%s", p->identifier);
		return 0;
	}
	/* The kernel only takes a socket in place of a dead one. */
	if (cb_get_errno() == ENOSPC)
		cb_set_error(EBUSY, "%s still has a live server: stop it first", k->device);
	return -1;
}

int kernel_nbd_resize(struct kernel_nbd *k, uint64_t size)
{
	if (k->how == KERNEL_NBD_NETLINK)
		return nbd_netlink_resize(k->index, size, k->identifier);
	if (ioctl(k->fd, NBD_SET_SIZE, (unsigned long)size) == -1) {
		cb_set_error_errno(errno, "resizing %s", k->device);
		return -1;
	}
	return 0;
}

static bool try_modprobe(void)
{
	char *argv[] = { "modprobe", "-q", "nbd", NULL };
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) != 0)
		return false;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return access("/sys/module/nbd", F_OK) == 0;
}

bool kernel_nbd_available(char *why, size_t len)
{
	if (nbd_netlink_available() || access("/sys/module/nbd", F_OK) == 0 || try_modprobe())
		return true;
	snprintf(why, len, "the kernel has no nbd module (/sys/module/nbd is missing and "
		 "\"modprobe nbd\" did not load one)");
	return false;
}

int kernel_nbd_identifier(int index, char *buf, size_t len)
{
	return read_sysfs(index, "backend", buf, len);
}

uint64_t kernel_nbd_size(int index)
{
	char buf[32];

	if (read_sysfs(index, "size", buf, sizeof buf) == -1)
		return 0;
	return strtoull(buf, NULL, 10) * 512;
}
