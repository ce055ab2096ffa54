/* See blockdev.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "blockdev.h"

bool blockdev_busy(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd == -1 && errno == EBUSY;
}
