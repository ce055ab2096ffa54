/* See serve.h. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exports/loop.h"
#include "lib/error.h"
#include "lib/log.h"
#include "serve.h"

#define STOP_TIMEOUT_S 60
/* The export gives up detaching a mounted device within about a second
 * and keeps serving: a device still attached this long after SIGTERM
 * means it refused. */
#define REFUSAL_S 3

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return;	/* it failed before reading: its status says why */
		s += n;
		len -= (size_t)n;
	}
}

/* Reads until EOF, which comes once the export has daemonised. */
static void read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
}

static void exec_export(int in, int out, const struct serve_opts *o, const char *fuse,
			const char *pidfile)
{
	const char *argv[16] = { program_name, "export", "--connection-info", "-",
				 "--fuse", fuse, "--loop", "--pidfile", pidfile };
	int n = 9;

	if (o->read_only)
		argv[n++] = "--read-only";
	if (o->rbd_keyring) {
		argv[n++] = "--rbd-keyring";
		argv[n++] = o->rbd_keyring;
	}
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);

	dup2(in, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	/* The daemon must not hold our Cinder connection for its lifetime. */
	close_range(STDERR_FILENO + 1, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	/* The binary's own path, so that ps shows cinder-brick, not exe. */
	if (len > 0)
		exe[len] = '\0';
	execv(len > 0 ? exe : "/proc/self/exe", (char **)argv);
	_exit(127);
}

/* Runs the export with ci on its stdin; its stdout into buf. */
static int run_export(const json_t *ci, const struct serve_opts *o, const char *fuse,
		      const char *pidfile, char *buf, size_t len)
{
	char *text = json_dumps(ci, JSON_COMPACT);
	int in[2], out[2], status;
	pid_t pid;

	if (!text || pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1) {
		free(text);
		cb_set_error_errno(errno, "cannot start the serving process");
		return -1;
	}
	pid = fork();
	if (pid == 0)
		exec_export(in[0], out[1], o, fuse, pidfile);
	close(in[0]);
	close(out[1]);
	if (pid > 0)
		write_all(in[1], text);
	explicit_bzero(text, strlen(text));	/* a keyring, maybe */
	free(text);
	close(in[1]);
	read_all(out[0], buf, len);
	close(out[0]);
	if (pid == -1 || waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		cb_set_error(EIO, "the serving process (cinder-brick export) could not start: "
			     "see its error above");
		return -1;
	}
	return 0;
}

static pid_t read_pid(const char *pidfile)
{
	FILE *f = fopen(pidfile, "re");
	long pid = 0;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

int serve_start(const json_t *ci, const struct serve_opts *o, struct served *out)
{
	char pidfile[PATH_MAX], buf[4096], *loop;
	int fd;

	snprintf(out->fuse_file, sizeof out->fuse_file, "%s/disk", o->dir);
	snprintf(pidfile, sizeof pidfile, "%s/pid", o->dir);
	/* An empty regular file: the export mounts the volume over it. */
	fd = open(out->fuse_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		cb_set_error_errno(errno, "cannot create %s", out->fuse_file);
		return -1;
	}
	close(fd);
	if (run_export(ci, o, out->fuse_file, pidfile, buf, sizeof buf) == -1)
		return -1;
	out->pid = read_pid(pidfile);
	loop = strstr(buf, "loop: ");
	if (loop)
		sscanf(loop + 6, "%63s", out->device);
	if (out->pid <= 0 || !out->device[0]) {
		/* Cannot happen with a working export; stop whatever runs. */
		if (out->pid > 0)
			serve_stop(out->pid, out->fuse_file, "");
		cb_set_error(EPROTO, "the serving process reported no pid or loop device");
		return -1;
	}
	return 0;
}

bool serve_alive(pid_t pid, const char *fuse_file)
{
	char path[64], cmdline[8192], stat[256], *p;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(stat, sizeof stat, f);
	fclose(f);
	p = p ? strrchr(stat, ')') : NULL;
	if (!p || p[2] == 'Z')
		return false;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(cmdline, 1, sizeof cmdline - 1, f);
		fclose(f);
	}
	/* argv is NUL-separated: look for fuse_file as a whole argument. */
	for (p = cmdline; p < cmdline + n; p += strlen(p) + 1)
		if (strcmp(p, fuse_file) == 0)
			return true;
	return false;
}

/* A mounted filesystem (or any O_EXCL holder) makes this fail. */
static bool device_busy(const char *device)
{
	int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd == -1 && errno == EBUSY;
}

static int busy_error(const char *device)
{
	cb_set_error(EBUSY, "%s is mounted or in use: unmount it first (findmnt %s)",
		     device, device);
	return -1;
}

int serve_stop(pid_t pid, const char *fuse_file, const char *device)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	bool attached = device[0] && loop_backs(device, fuse_file);

	if (attached && device_busy(device))
		return busy_error(device);
	if (kill(pid, SIGTERM) == -1 && errno != ESRCH) {
		cb_set_error_errno(errno, "cannot stop the serving process %ld", (long)pid);
		return -1;
	}
	for (int i = 0; i < STOP_TIMEOUT_S * 10; i++) {
		if (!serve_alive(pid, fuse_file))
			return 0;
		/* Mounted between our check and its detach: it keeps serving. */
		if (i == REFUSAL_S * 10 && attached && loop_backs(device, fuse_file))
			return busy_error(device);
		nanosleep(&tick, NULL);
	}
	cb_set_error(ETIMEDOUT, "the serving process %ld did not exit within %d s of "
		     "SIGTERM (see syslog); --force kills it", (long)pid, STOP_TIMEOUT_S);
	return -1;
}

/* The loop device over fuse_file, when the state that named it is lost. */
static void find_loop(const char *fuse_file, char *dev, size_t len)
{
	struct dirent *e;
	DIR *d = opendir("/sys/block");

	dev[0] = '\0';
	while (d && !dev[0] && (e = readdir(d))) {
		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		snprintf(dev, len, "/dev/%s", e->d_name);
		if (!loop_backs(dev, fuse_file))
			dev[0] = '\0';
	}
	if (d)
		closedir(d);
}

void serve_cleanup(const char *fuse_file, const char *device)
{
	char found[300];	/* "/dev/" and a d_name */

	if (!device[0]) {
		find_loop(fuse_file, found, sizeof found);
		device = found;
	}
	if (device[0] && loop_backs(device, fuse_file) && loop_detach(device) == -1)
		cb_log(CB_LOG_WARNING, "%s", cb_get_error());
	/* Lazy: a FUSE mount whose server died answers nothing but ENOTCONN. */
	if (umount2(fuse_file, MNT_DETACH) == -1 && errno != EINVAL && errno != ENOENT)
		cb_log(CB_LOG_WARNING, "cannot unmount %s: %s", fuse_file, strerror(errno));
}
