/* See state.h. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "state.h"

#define SUFFIX ".json"

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
static int path_of(const char *volume_id, const char *suffix, char *buf, size_t len)
{
	if (!volume_id[0] || strchr(volume_id, '/') || volume_id[0] == '.') {
		cb_set_error(EINVAL, "\"%s\" is not a volume ID", volume_id);
		return -1;
	}
	snprintf(buf, len, STATE_DIR "/%s%s", volume_id, suffix);
	return 0;
}

int state_volume_dir(const char *volume_id, char *buf, size_t len)
{
	if (ensure_dir(STATE_DIR) == -1 || path_of(volume_id, "", buf, len) == -1)
		return -1;
	return ensure_dir(buf);
}

json_t *state_load(const char *volume_id)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *st;

	if (path_of(volume_id, SUFFIX, path, sizeof path) == -1)
		return NULL;
	if (access(path, F_OK) == -1) {
		cb_set_error_errno(errno, "no local state %s", path);
		return NULL;
	}
	st = json_load_file(path, 0, &jerr);
	if (!st)
		cb_set_error(EINVAL, "%s: %s", path, jerr.text);
	return st;
}

int state_save(const json_t *st)
{
	const char *id = json_string_value(json_object_get(st, "volume_id"));
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd;

	if (!id || ensure_dir(STATE_DIR) == -1 || path_of(id, SUFFIX, path, sizeof path) == -1)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || json_dumpfd(st, fd, JSON_INDENT(2)) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		cb_set_error_errno(errno, "cannot write %s", path);
		if (fd != -1)
			unlink(tmp);
		return -1;
	}
	return 0;
}

void state_remove(const char *volume_id)
{
	char path[PATH_MAX], file[PATH_MAX + 8];

	if (path_of(volume_id, "", path, sizeof path) == -1)
		return;
	/* Whatever the serving process left: its pidfile, the FUSE file. */
	snprintf(file, sizeof file, "%s/pid", path);
	unlink(file);
	snprintf(file, sizeof file, "%s/disk", path);
	unlink(file);
	rmdir(path);
	snprintf(file, sizeof file, "%s" SUFFIX, path);
	unlink(file);
}

json_t *state_list(void)
{
	DIR *d = opendir(STATE_DIR);
	json_t *all = json_array(), *st;
	struct dirent *e;

	if (!d && errno != ENOENT) {
		cb_set_error_errno(errno, "cannot read " STATE_DIR);
		json_decref(all);
		return NULL;
	}
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char id[256];

		if (len <= strlen(SUFFIX) || len >= sizeof id ||
		    strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX) != 0)
			continue;
		snprintf(id, sizeof id, "%.*s", (int)(len - strlen(SUFFIX)), e->d_name);
		st = state_load(id);
		if (st && json_is_string(json_object_get(st, "volume_id")))
			json_array_append(all, st);
		json_decref(st);
	}
	if (d)
		closedir(d);
	return all;
}
