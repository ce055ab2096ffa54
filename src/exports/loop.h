/* Loop devices over the FUSE file, so the volume is a block device.
 *
 * Everything cinder-brick knows about loop devices lives behind this
 * header: attaching and detaching them, and asking the kernel (sysfs) which
 * file a device is attached to.  dev is always a path such as /dev/loop3.
 */
#ifndef CB_LOOP_H
#define CB_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Attaches a free loop device to path (direct I/O when the file allows it)
 * with logical blocks of block_size bytes (0 means 512: the volume's
 * cb_backend_caps.logical_block_size), and writes its name to dev.  A
 * block size the kernel refuses fails the attach, with an error that says
 * so: a device of other sectors than the volume's would misplace its
 * partition table.  Returns 0, or -1 and sets the error. */
int loop_attach(const char *path, bool read_only, uint32_t block_size, char *dev,
		size_t devlen);
/* Makes dev take its file's size again, after the file grew: 0 or -1. */
int loop_set_capacity(const char *dev);
/* Detaches; the kernel flushes the device first.  While another process
 * holds dev open, the detach is only scheduled for its last close; when
 * that process has requests in flight, it is waited for until one of them
 * completes, without a bound (none does while the storage is stuck).
 * Returns 0, or -1 with EBUSY while dev is mounted, or held open by a
 * process that is idle or still at work. */
int loop_detach(const char *dev);

/* Whether the loop device dev is attached to path, as the kernel names its
 * backing file (the absolute path it was attached by, e.g. the FUSE file).
 * False for a detached device, a device that is not a loop device, and a
 * file attached elsewhere. */
bool loop_backs(const char *dev, const char *path);
/* The loop device attached to path (the first one, if several are), for a
 * caller that lost its name: writes /dev/loopN to dev (devlen > 0) and
 * returns 0, or returns -1 with dev empty and the error set (ENOENT when no
 * loop device is attached to path). */
int loop_find(const char *path, char *dev, size_t devlen);

#endif
