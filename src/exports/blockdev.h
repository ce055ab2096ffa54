/* What any block device of ours (loop, nbd) is asked before it goes. */
#ifndef CB_BLOCKDEV_H
#define CB_BLOCKDEV_H

#include <stdbool.h>

/* Whether dev is held exclusively (a mounted filesystem, or another O_EXCL
 * opener), when releasing it would fail with EBUSY.  Asks without taking
 * it. */
bool blockdev_busy(const char *dev);
/* Whether a filesystem of this mount namespace is mounted from dev, as
 * /proc/self/mountinfo says: dev is not opened, which could wait behind a
 * release of it in progress. */
bool blockdev_mounted(const char *dev);

#endif
