/* The volume as a file through FUSE, for hosts whose kernel has no nbd.
 *
 * The mountpoint is either an existing regular file (it becomes the volume)
 * or a directory (the volume appears as MOUNTPOINT/disk).  Requests run on
 * libfuse worker threads straight into the backend; there is no NBD hop.
 */
#ifndef CB_FUSE_EXPORT_H
#define CB_FUSE_EXPORT_H

#include <stdbool.h>

#include "backends/backend.h"

struct fuse_export;

/* Mounts and starts serving on background threads.  NULL on error. */
struct fuse_export *fuse_export_start(struct cb_backend *backend, const char *mountpoint,
				      bool read_only);
/* The path of the volume file (the mountpoint, or MOUNTPOINT/disk). */
const char *fuse_export_file(const struct fuse_export *fx);
/* The absolute path mounted on: the file itself, or its directory. */
const char *fuse_export_mountpoint(const struct fuse_export *fx);
/* After the backend grew (cb_backend_grow): the kernel forgets the size
 * it cached, so the file shows the new one.  0, or -1 with the error set. */
int fuse_export_grow(struct fuse_export *fx);
/* Unmounts and joins the threads.  Safe on NULL. */
void fuse_export_stop(struct fuse_export *fx);

#endif
