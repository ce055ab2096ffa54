/* The FUSE export of a build without libfuse3 (configure --without-fuse,
 * or no libfuse3-dev found): every export fails with the reason. */
#include <config.h>

#include <errno.h>

#include "fuse_export.h"
#include "lib/error.h"

struct fuse_export *fuse_export_start(struct cb_backend *backend, const char *mountpoint,
				      bool read_only)
{
	cb_set_error(ENOTSUP, "built without FUSE (configure --without-fuse, or no "
		     "libfuse3-dev): no FUSE export; rebuild with libfuse3-dev installed, "
		     "or serve over NBD");
	return NULL;
}

const char *fuse_export_file(const struct fuse_export *fx)
{
	return NULL;
}

const char *fuse_export_mountpoint(const struct fuse_export *fx)
{
	return NULL;
}

int fuse_export_grow(struct fuse_export *fx)
{
	return 0;
}

void fuse_export_stop(struct fuse_export *fx)
{
}
