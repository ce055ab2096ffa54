/* Assembles the connector; see connector.h for the fields. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "connector.h"
#include "host_ip.h"
#include "initiator.h"
#include "lib/error.h"

#define BY_UUID "/dev/disk/by-uuid"
#define NVME_HOSTNQN "/etc/nvme/hostnqn"
#define NVME_HOSTID "/etc/nvme/hostid"

/* The first line of a small file, or "" when there is none. */
static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	fclose(f);
}

/* The root filesystem's UUID from udev's links, as os-brick gets it from
 * findmnt.  Without udev (containers, minimal VMs) there is none: "". */
static void root_uuid(char *buf, size_t len)
{
	struct stat root, dev;
	struct dirent *e;
	char path[300];
	DIR *d;

	buf[0] = '\0';
	if (stat("/", &root) == -1 || !(d = opendir(BY_UUID)))
		return;
	while ((e = readdir(d))) {
		snprintf(path, sizeof path, BY_UUID "/%s", e->d_name);
		if (e->d_name[0] != '.' && stat(path, &dev) == 0 && S_ISBLK(dev.st_mode) &&
		    dev.st_rdev == root.st_dev) {
			snprintf(buf, len, "%s", e->d_name);
			break;
		}
	}
	closedir(d);
}

/* Adds key: value when value is not empty. */
static int set_optional(json_t *c, const char *key, const char *value)
{
	return value[0] ? json_object_set_new(c, key, json_string(value)) : 0;
}

static int add_optional(json_t *c)
{
	char buf[256];

	root_uuid(buf, sizeof buf);
	if (set_optional(c, "uuid", buf))
		return -1;
	first_line(NVME_HOSTNQN, buf, sizeof buf);
	if (set_optional(c, "nqn", buf))
		return -1;
	first_line(NVME_HOSTID, buf, sizeof buf);
	return set_optional(c, "nvme_hostid", buf);
}

json_t *cb_connector_get(const struct cb_connector_opts *opts)
{
	char host[256] = "", ip[64], iqn[256];
	struct utsname u;
	json_t *c;

	if (uname(&u) == -1 || gethostname(host, sizeof host - 1) == -1) {
		cb_set_error_errno(errno, "cannot get the host name");
		return NULL;
	}
	if (cb_host_ip(opts->nic, ip, sizeof ip) == -1 ||
	    cb_initiator_name(iqn, sizeof iqn) == -1)
		return NULL;
	c = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:b}",
		      "platform", u.machine, "os_type", "linux", "ip", ip, "host", host,
		      "multipath", opts->multipath, "enforce_multipath",
		      opts->enforce_multipath, "initiator", iqn, "do_local_attach", 1);
	if (!c || add_optional(c) == -1) {
		json_decref(c);
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	return c;
}
