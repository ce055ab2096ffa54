/* See initiator.h for why the name must be stable. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initiator.h"
#include "lib/error.h"

#define IQN_PREFIX "iqn.2004-10.org.cinder-brick:"
#define KEY "InitiatorName="

/* 0 with the IQN of an "InitiatorName=..." line of path in buf; -1 with
 * errno ENOENT when the file or the line is missing, else another errno. */
static int read_initiator(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int ret = -1;

	if (!f)
		return -1;
	errno = ENOENT;
	while (ret && fgets(line, sizeof line, f)) {
		if (strncmp(line, KEY, strlen(KEY)) != 0)
			continue;
		line[strcspn(line, "\r\n \t")] = '\0';
		if (line[strlen(KEY)] && strlen(line + strlen(KEY)) < len) {
			strcpy(buf, line + strlen(KEY));
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* iqn.2004-10.org.cinder-brick:<hostname>-<64 random bits>, written with
 * O_EXCL so that two first runs at once agree on the name kept. */
static int generate(char *buf, size_t len)
{
	char host[64] = "localhost", content[600];
	unsigned long long rnd;
	int fd;

	gethostname(host, sizeof host - 1);
	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) {
		cb_set_error_errno(errno, "cannot generate an iSCSI initiator name");
		return -1;
	}
	snprintf(buf, len, IQN_PREFIX "%s-%016llx", host, rnd);
	if (mkdir(CB_INITIATOR_DIR, 0755) == -1 && errno != EEXIST)
		goto fail;
	/* Not a secret: iscsid's own file is world-readable too. */
	fd = open(CB_INITIATOR_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 && errno == EEXIST) {
		if (read_initiator(CB_INITIATOR_FILE, buf, len) == 0)
			return 0;
		cb_set_error(EINVAL, "%s has no \"" KEY "\" line: fix or delete it",
			     CB_INITIATOR_FILE);
		return -1;
	}
	if (fd == -1)
		goto fail;
	snprintf(content, sizeof content, KEY "%s\n", buf);
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content) ||
	    fsync(fd) == -1) {
		close(fd);
		unlink(CB_INITIATOR_FILE);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	cb_set_error_errno(errno, "cannot keep a generated iSCSI initiator name in %s",
			   CB_INITIATOR_FILE);
	return -1;
}

int cb_initiator_name(char *buf, size_t len)
{
	if (read_initiator(CB_ISCSI_INITIATOR_FILE, buf, len) == 0)
		return 0;
	if (read_initiator(CB_INITIATOR_FILE, buf, len) == 0)
		return 0;
	if (errno != ENOENT) {
		cb_set_error_errno(errno, "cannot read %s", CB_INITIATOR_FILE);
		return -1;
	}
	return generate(buf, len);
}
