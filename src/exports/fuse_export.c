#include <config.h>
#include <errno.h>
#include "fuse_export.h"
#include "lib/error.h"
struct fuse_export *fuse_export_start(struct cb_backend *backend, const char *mountpoint,
				      bool read_only)
{
	cb_set_error(ENOSYS, "FUSE export not implemented yet");
	return NULL;
}
const char *fuse_export_file(const struct fuse_export *fx) { return ""; }
void fuse_export_stop(struct fuse_export *fx) { }
