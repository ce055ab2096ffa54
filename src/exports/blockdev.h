/* What any block device of ours (loop, nbd) is asked before it goes. */
#ifndef CB_BLOCKDEV_H
#define CB_BLOCKDEV_H

#include <stdbool.h>

/* Whether dev is held exclusively (a mounted filesystem, or another O_EXCL
 * opener), when releasing it would fail with EBUSY.  Asks without taking
 * it. */
bool blockdev_busy(const char *dev);

#endif
