/* Which local paths Cinder may hand out.
 *
 * A "local" connection_info names a path on this host, and it comes from
 * the network: a Cinder endpoint that answered {"device_path":
 * "/proc/self/mem"} or "/dev/vda" would otherwise have the serving process
 * expose that, read-write, as a block device.  So a path from Cinder is
 * served only when it resolves (symlinks followed) under a prefix the
 * user allowed, is a regular file or a block device, and lies on no
 * kernel pseudo-filesystem.  `cinder-brick export` of a path the user
 * typed is not subject to this.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "backends/connection_info.h"
#include "internal.h"
#include "lib/error.h"

#define LOCAL_PATHS_FILE CB_SYSCONFDIR "/cinder-brick/local-paths"
#define LOCAL_PATHS_MAX 64

/* Kernel pseudo-filesystems (linux/magic.h): none of them holds a volume,
 * and several expose memory or kernel state as files. */
static const unsigned long pseudo_fs[] = {
	0x9fa0,		/* proc */
	0x62656572,	/* sysfs */
	0x64626720,	/* debugfs */
	0x74726163,	/* tracefs */
	0x73636673,	/* securityfs */
	0x27e0eb,	/* cgroup */
	0x63677270,	/* cgroup2 */
	0xcafe4a11,	/* bpf */
	0xde5e81e4,	/* efivarfs */
	0x62656570,	/* configfs */
	0x1cd1,		/* devpts */
};

static const char *const refused_trees[] = { "/proc", "/sys" };

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 1 && prefix[0] == '/')
		return true;
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int add_prefix(struct cb_engine *e, const char *prefix, const char *from)
{
	char resolved[PATH_MAX], **grown;

	if (prefix[0] != '/') {
		cb_set_error(EINVAL, "local path prefix \"%s\" (%s) is not absolute", prefix, from);
		return -1;
	}
	if (e->nlocal_paths == LOCAL_PATHS_MAX) {
		cb_set_error(E2BIG, "more than %d local path prefixes", LOCAL_PATHS_MAX);
		return -1;
	}
	/* A prefix that does not exist (yet) is kept as written. */
	if (!realpath(prefix, resolved))
		snprintf(resolved, sizeof resolved, "%s", prefix);
	grown = realloc(e->local_paths, (e->nlocal_paths + 1) * sizeof *grown);
	if (!grown || !(grown[e->nlocal_paths] = strdup(resolved))) {
		if (grown)
			e->local_paths = grown;
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	e->local_paths = grown;
	e->nlocal_paths++;
	return 0;
}

/* One prefix a line; blank lines and lines starting with # are skipped. */
static int load_file(struct cb_engine *e, const char *path, bool must_exist)
{
	FILE *f = fopen(path, "re");
	char line[PATH_MAX + 2];
	int ret = 0;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		cb_set_error_errno(errno, "cannot read %s", path);
		return -1;
	}
	while (ret == 0 && fgets(line, sizeof line, f)) {
		char *s = line + strspn(line, " \t");

		s[strcspn(s, "\r\n")] = '\0';
		if (*s && *s != '#')
			ret = add_prefix(e, s, path);
	}
	fclose(f);
	return ret;
}

int local_policy_init(struct cb_engine *e, const struct cb_engine_opts *o)
{
	for (const char *const *p = o->local_paths; p && *p; p++)
		if (add_prefix(e, *p, "given") == -1)
			return -1;
	e->local_paths_file = strdup(o->local_paths_file ? o->local_paths_file :
				     LOCAL_PATHS_FILE);
	e->local_paths_file_optional = !o->local_paths_file;
	if (!e->local_paths_file) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

/* Read when Cinder first names a local path, so that a broken file
 * stands in the way of nothing else. */
static int load_once(struct cb_engine *e)
{
	if (e->local_paths_file_loaded)
		return 0;
	if (load_file(e, e->local_paths_file, !e->local_paths_file_optional) == -1)
		return -1;
	e->local_paths_file_loaded = true;
	return 0;
}

static bool allowed(const struct cb_engine *e, const char *path)
{
	for (size_t i = 0; i < e->nlocal_paths; i++)
		if (under(path, e->local_paths[i]))
			return true;
	return false;
}

static int refuse(const char *path, const char *why)
{
	cb_set_error(EPERM, "Cinder gives this volume as the local path %s, which cannot "
		     "be served: %s", path, why);
	return -1;
}

static int check_file(const char *resolved)
{
	struct statfs sfs;
	struct stat st;

	for (size_t i = 0; i < sizeof refused_trees / sizeof refused_trees[0]; i++)
		if (under(resolved, refused_trees[i]))
			return refuse(resolved, "it is kernel state, not a volume");
	if (stat(resolved, &st) == -1)
		return refuse(resolved, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return refuse(resolved, "it is neither a regular file nor a block device");
	if (statfs(resolved, &sfs) == -1)
		return refuse(resolved, strerror(errno));
	for (size_t i = 0; i < sizeof pseudo_fs / sizeof pseudo_fs[0]; i++)
		if ((unsigned long)sfs.f_type == pseudo_fs[i])
			return refuse(resolved, "it is on a kernel pseudo-filesystem");
	return 0;
}

int local_policy_check(struct cb_engine *e, json_t *ci)
{
	json_t *data = json_object_get(ci, "data");
	const char *path = json_string_value(json_object_get(data, "device_path"));
	char resolved[PATH_MAX];

	if (strcmp(cb_connection_info_type(ci), "local") != 0)
		return 0;
	if (!path || path[0] != '/')
		return refuse(path ? path : "(none)", "it is not an absolute path");
	if (!realpath(path, resolved))
		return refuse(path, strerror(errno));
	if (check_file(resolved) == -1 || load_once(e) == -1)
		return -1;
	if (!allowed(e, resolved)) {
		cb_set_error(EPERM, "Cinder gives this volume as the local path %s, outside "
			     "every path allowed for local volumes: allow its directory "
			     "(local-attach --allow-local-path DIR, or a line in %s)", resolved,
			     e->local_paths_file);
		return -1;
	}
	/* Served as resolved: a symlink changed later cannot redirect it. */
	if (json_object_set_new(data, "device_path", json_string(resolved)) == -1) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}
