/* See blockdev.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"

bool blockdev_busy(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd == -1 && errno == EBUSY;
}

bool blockdev_mounted(const char *dev)
{
	unsigned int maj, min;
	bool found = false;
	char *line = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;

	if (stat(dev, &st) == -1 || !S_ISBLK(st.st_mode))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	/* "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ..." */
	while (!found && getline(&line, &len, f) != -1)
		found = sscanf(line, "%*d %*d %u:%u", &maj, &min) == 2 &&
			makedev(maj, min) == st.st_rdev;
	free(line);
	fclose(f);
	return found;
}
