/* The attachment store: <state_dir>/<volume_id>.json (directory 0700, files
 * 0600) next to <state_dir>/<volume_id>/, which holds the FUSE file.  The
 * default state directory is on a tmpfs (/run): after a reboot nothing is
 * attached, and the state is gone with it. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "lib/error.h"

#define SUFFIX ".json"
#define DISK_NAME "disk"
#define PATHS_NAME "paths.json"

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		cb_set_error_errno(errno, "cannot create %s", path);
		return -1;
	}
	return 0;
}

/* A volume ID comes from Cinder, but is still checked before it becomes
 * part of a path. */
static int path_of(const struct cb_engine *e, const char *volume_id, const char *suffix,
		   char *buf, size_t len)
{
	if (!volume_id[0] || strchr(volume_id, '/') || volume_id[0] == '.') {
		cb_set_error(EINVAL, "\"%s\" is not a volume ID", volume_id);
		return -1;
	}
	if ((size_t)snprintf(buf, len, "%s/%s%s", e->state_dir, volume_id, suffix) >= len) {
		cb_set_error(ENAMETOOLONG, "the state path of volume %s is too long", volume_id);
		return -1;
	}
	return 0;
}

int state_volume_dir(const struct cb_engine *e, const char *volume_id, char *buf,
		     size_t len)
{
	if (ensure_dir(e->state_dir) == -1 || path_of(e, volume_id, "", buf, len) == -1)
		return -1;
	return ensure_dir(buf);
}

int state_disk_path(const struct cb_engine *e, const char *volume_id, char *buf,
		    size_t len)
{
	return path_of(e, volume_id, "/" DISK_NAME, buf, len);
}

int state_load(const struct cb_engine *e, const char *volume_id, struct cb_attachment *a)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *st;
	int ret;

	if (path_of(e, volume_id, SUFFIX, path, sizeof path) == -1)
		return -1;
	if (access(path, F_OK) == -1) {
		cb_set_error_errno(errno, "no local state %s", path);
		return -1;
	}
	st = json_load_file(path, 0, &jerr);
	if (!st) {
		cb_set_error(EINVAL, "%s: %s", path, jerr.text);
		return -1;
	}
	ret = attachment_from_json(st, a);
	json_decref(st);
	if (ret == -1)
		cb_set_error(cb_get_errno(), "%s: %s", path, cb_get_error());
	return ret;
}

static int write_file(const char *path, const json_t *st)
{
	char tmp[PATH_MAX + 8];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 || json_dumpfd(st, fd, JSON_INDENT(2)) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		cb_set_error_errno(errno, "cannot write %s", path);
		if (fd != -1)
			unlink(tmp);
		return -1;
	}
	return 0;
}

int state_save(const struct cb_engine *e, const struct cb_attachment *a)
{
	char path[PATH_MAX];
	json_t *st;
	int ret;

	if (ensure_dir(e->state_dir) == -1 ||
	    path_of(e, a->volume_id, SUFFIX, path, sizeof path) == -1)
		return -1;
	st = cb_attachment_to_json(a);
	if (!st) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	ret = write_file(path, st);
	json_decref(st);
	return ret;
}

int state_paths_path(const struct cb_engine *e, const char *volume_id, char *buf,
		     size_t len)
{
	return path_of(e, volume_id, "/" PATHS_NAME, buf, len);
}

void state_remove(const struct cb_engine *e, const char *volume_id)
{
	char path[PATH_MAX], file[PATH_MAX];

	if (path_of(e, volume_id, "", path, sizeof path) == -1)
		return;
	if (state_disk_path(e, volume_id, file, sizeof file) == 0)
		unlink(file);
	if (state_paths_path(e, volume_id, file, sizeof file) == 0)
		unlink(file);
	rmdir(path);
	if (path_of(e, volume_id, SUFFIX, file, sizeof file) == 0)
		unlink(file);
}

/* The volume ID in a state file's name, or NULL for another file. */
static const char *volume_of(const char *name, char *id, size_t len)
{
	size_t n = strlen(name), s = strlen(SUFFIX);

	if (n <= s || n - s >= len || strcmp(name + n - s, SUFFIX) != 0)
		return NULL;
	snprintf(id, len, "%.*s", (int)(n - s), name);
	return id;
}

static int append(struct cb_attachment **atts, size_t *n, const struct cb_attachment *a)
{
	struct cb_attachment *grown = realloc(*atts, (*n + 1) * sizeof **atts);

	if (!grown) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	grown[(*n)++] = *a;
	*atts = grown;
	return 0;
}

int state_list(const struct cb_engine *e, struct cb_attachment **atts, size_t *n)
{
	DIR *d = opendir(e->state_dir);
	struct dirent *ent;
	int ret = 0;

	*atts = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		cb_set_error_errno(errno, "cannot read %s", e->state_dir);
		return -1;
	}
	while (ret == 0 && (ent = readdir(d))) {
		struct cb_attachment a = { 0 };
		char id[256];

		/* A file that cannot be read is skipped, not fatal: list must
		 * still show the others. */
		if (!volume_of(ent->d_name, id, sizeof id) || state_load(e, id, &a) == -1)
			continue;
		ret = append(atts, n, &a);
		if (ret == -1)
			cb_attachment_clear(&a);
	}
	closedir(d);
	return ret;
}
