/* Loop devices over the FUSE file, so the volume is a block device. */
#ifndef CB_LOOP_H
#define CB_LOOP_H

#include <stdbool.h>
#include <stddef.h>

/* Attaches a free loop device to path (direct I/O when the file allows it)
 * and writes its name (/dev/loopN) to dev.  Returns 0, or -1 and sets the
 * error. */
int loop_attach(const char *path, bool read_only, char *dev, size_t devlen);
/* Detaches; the kernel flushes the device first.  Returns 0 or -1. */
int loop_detach(const char *dev);
/* Whether dev (/dev/loopN) is attached to path. */
bool loop_backs(const char *dev, const char *path);
/* The loop device attached to path, into dev: 0, or -1 when none is. */
int loop_find(const char *path, char *dev, size_t len);
/* Whether dev is mounted or held open exclusively. */
bool loop_busy(const char *dev);

#endif
