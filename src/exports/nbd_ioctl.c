/* The kernel NBD client's ioctl interface, for kernels without the netlink
 * family: the sockets and settings are given to /dev/nbdN one ioctl at a
 * time, then a thread sits in NBD_DO_IT for as long as the device lives. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/nbd.h>

#include "kernel_nbd_internal.h"
#include "lib/error.h"
#include "lib/log.h"

/* Gives the device its first socket, which claims it for this process: the
 * kernel answers EBUSY to any other task setting up the same device, and
 * EINVAL when netlink owns it. */
static int claim(struct kernel_nbd *k, int index, int sock)
{
	snprintf(k->device, sizeof k->device, "/dev/nbd%d", index);
	k->fd = open(k->device, O_RDWR | O_CLOEXEC);
	if (k->fd == -1)
		return -1;
	if (ioctl(k->fd, NBD_SET_SOCK, (unsigned long)sock) == 0) {
		k->index = index;
		return 0;
	}
	close(k->fd);
	k->fd = -1;
	if (errno == EINVAL)
		errno = EBUSY;
	return -1;
}

static int claim_any(struct kernel_nbd *k, int sock)
{
	int i;

	for (i = 0;; i++) {
		if (claim(k, i, sock) == 0)
			return 0;
		if (errno != EBUSY)
			break;
	}
	if (errno == ENOENT && i == 0)
		cb_set_error(ENOTSUP, "there is no /dev/nbd0: the kernel has no nbd module");
	else if (errno == ENOENT)
		cb_set_error(EBUSY, "all %d nbd devices are in use (the nbd module's "
			     "nbds_max parameter sets how many there are)", i);
	else
		cb_set_error_errno(errno, "cannot open /dev/nbd%d", i);
	return -1;
}

static int configure(struct kernel_nbd *k, const struct kernel_nbd_params *p)
{
	int i;

	for (i = 1; i < p->nsocks; i++)
		if (ioctl(k->fd, NBD_SET_SOCK, (unsigned long)p->socks[i]) == -1)
			goto fail;
	if (ioctl(k->fd, NBD_SET_BLKSIZE, (unsigned long)p->block_size) == -1 ||
	    ioctl(k->fd, NBD_SET_SIZE, (unsigned long)p->size) == -1 ||
	    ioctl(k->fd, NBD_SET_TIMEOUT, (unsigned long)p->io_timeout) == -1 ||
	    ioctl(k->fd, NBD_SET_FLAGS, (unsigned long)p->flags) == -1)
		goto fail;
	return 0;
fail:
	cb_set_error_errno(errno, "setting up %s by ioctl", k->device);
	return -1;
}

static void *do_it(void *arg)
{
	struct kernel_nbd *k = arg;

	/* Returns once the device is disconnected or its server is gone. */
	if (ioctl(k->fd, NBD_DO_IT) == -1 && errno != EPIPE)
		cb_log(CB_LOG_WARNING, "%s: the kernel ended serving: %m", k->device);
	ioctl(k->fd, NBD_CLEAR_QUE);
	ioctl(k->fd, NBD_CLEAR_SOCK);
	__atomic_store_n(&k->do_it_running, false, __ATOMIC_RELEASE);
	return NULL;
}

/* The device is usable once NBD_DO_IT has started it, when the kernel
 * shows the serving pid. */
static int wait_started(struct kernel_nbd *k)
{
	struct timespec step = { 0, 1000000 };
	char path[64];
	int ms;

	snprintf(path, sizeof path, "/sys/block/nbd%d/pid", k->index);
	for (ms = 0; ms < 10000; ms++) {
		if (access(path, F_OK) == 0)
			return 0;
		if (!__atomic_load_n(&k->do_it_running, __ATOMIC_ACQUIRE))
			break;
		nanosleep(&step, NULL);
	}
	cb_set_error(EIO, "%s did not start (NBD_DO_IT)", k->device);
	return -1;
}

int nbd_ioctl_connect(struct kernel_nbd *k, const struct kernel_nbd_params *p)
{
	int r;

	k->fd = -1;
	if (p->index >= 0)
		r = claim(k, p->index, p->socks[0]);
	else
		r = claim_any(k, p->socks[0]);
	if (r == -1) {
		if (p->index >= 0)
			cb_set_error_errno(errno, "cannot claim /dev/nbd%d", p->index);
		return -1;
	}
	if (configure(k, p) == -1)
		goto fail;
	k->do_it_running = true;
	errno = pthread_create(&k->do_it, NULL, do_it, k);
	if (errno) {
		k->do_it_running = false;
		cb_set_error_errno(errno, "cannot start a thread");
		goto fail;
	}
	if (wait_started(k) == 0)
		return 0;
	nbd_ioctl_disconnect(k);
	return -1;
fail:
	ioctl(k->fd, NBD_CLEAR_SOCK);
	close(k->fd);
	k->fd = -1;
	return -1;
}

int nbd_ioctl_disconnect(struct kernel_nbd *k)
{
	if (k->fd == -1)
		return 0;
	if (ioctl(k->fd, NBD_DISCONNECT) == -1 && errno != EINVAL)
		cb_log(CB_LOG_WARNING, "%s: NBD_DISCONNECT: %m", k->device);
	pthread_join(k->do_it, NULL);
	close(k->fd);
	k->fd = -1;
	return 0;
}
