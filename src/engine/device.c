/* The block device of an attachment, a loop device over its FUSE file or
 * the kernel's /dev/nbdN: whether it is still ours, in use, and how to let
 * go of it once its serving process is dead. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "exports/blockdev.h"
#include "exports/kernel_nbd.h"
#include "exports/loop.h"
#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

bool device_is_nbd(const struct cb_attachment *a)
{
	return strcmp(a->export_kind, "nbd") == 0;
}

int device_nbd_index(const struct cb_attachment *a)
{
	const char *n = a->device + strlen("/dev/nbd");
	char *end;
	long i;

	if (!device_is_nbd(a) || strncmp(a->device, "/dev/nbd", strlen("/dev/nbd")) != 0)
		return -1;
	i = strtol(n, &end, 10);
	return end != n && !*end && i >= 0 && i < 1 << 20 ? (int)i : -1;
}

/* The kernel keeps the device, connected, for the dead-connection timeout
 * after its server dies; its backend identifier says whose it is. */
static bool nbd_ours(const struct cb_attachment *a)
{
	char id[KERNEL_NBD_MAX_IDENTIFIER];
	int index = device_nbd_index(a);

	return index >= 0 && kernel_nbd_identifier(index, id, sizeof id) == 0 &&
	       strcmp(id, a->nbd_identifier) == 0 && kernel_nbd_size(index) > 0;
}

bool device_claimed_by_other(const struct cb_attachment *a)
{
	char id[KERNEL_NBD_MAX_IDENTIFIER];
	int index = device_nbd_index(a);

	return index >= 0 && kernel_nbd_size(index) > 0 &&
	       kernel_nbd_identifier(index, id, sizeof id) == 0 &&
	       strcmp(id, a->nbd_identifier) != 0;
}

bool device_attached(const struct cb_attachment *a)
{
	if (device_is_nbd(a))
		return nbd_ours(a);
	return a->device[0] && loop_backs(a->device, a->fuse_file);
}

bool device_busy(const struct cb_attachment *a)
{
	return device_attached(a) && blockdev_busy(a->device);
}

bool device_mounted(const struct cb_attachment *a)
{
	return device_attached(a) && blockdev_mounted(a->device);
}

/* Nothing is flushed: with the server dead the writes would only wait. */
static void nbd_cleanup(const struct cb_attachment *a)
{
	struct kernel_nbd *k;

	if (!nbd_ours(a) || !(k = kernel_nbd_adopt(device_nbd_index(a))))
		return;
	if (kernel_nbd_disconnect(k, false) == -1)
		cb_log(CB_LOG_WARNING, "%s", cb_get_error());
	kernel_nbd_free(k);
}

void device_cleanup(const struct cb_attachment *a)
{
	char found[64] = "";
	const char *device = a->device;

	if (device_is_nbd(a)) {
		nbd_cleanup(a);
		return;
	}
	if (!device[0] && loop_find(a->fuse_file, found, sizeof found) == 0)
		device = found;
	if (device[0] && loop_backs(device, a->fuse_file) && loop_detach(device) == -1)
		cb_log(CB_LOG_WARNING, "%s", cb_get_error());
}

int device_size(const struct cb_attachment *a, uint64_t *size)
{
	int fd = open(a->device, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || ioctl(fd, BLKGETSIZE64, size) == -1) {
		cb_set_error_errno(errno, "cannot get the size of %s", a->device);
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
