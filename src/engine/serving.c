/* The serving process of an attachment: the helper program
 * (cinder-brick-serve), one per attachment, started here and stopped here.
 *
 * A separate program, not a fork: the caller may be a multi-threaded
 * program (Python), where a fork could go on running library code with
 * another thread's locks held, and re-executing /proc/self/exe would start
 * the interpreter.  It is started with posix_spawn, a clean signal state,
 * no inherited descriptors but one socket, and a minimal environment: the
 * caller's holds OS_PASSWORD and the like, which must not live on in a
 * daemon for the attachment's lifetime.
 *
 * The protocol on that socket (its stdin and stdout): one JSON request
 * in, {"connection_info", "backend_options", "read_only", "multipath",
 * "enforce_multipath", "paths_file", "stop_grace", and "fuse": FILE or
 * "nbd": {"identifier", "index", "reattach", "connections", "io_timeout",
 * "dead_conn_timeout"}}, ended by EOF; then one JSON answer
 * out once the device exists or the helper gave up, {"pid", "device"} or
 * {"error", "errno"}.  The connection_info goes over the socket, never argv
 * or a file: it may hold a Ceph keyring.  argv holds the FUSE file or the
 * nbd identifier, so that the process can be recognised later
 * (serving_alive) and ps shows which volume it serves.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

#define ANSWER_MAX (64u << 10)
/* A helper's stop ends within its grace period, or is cut short then
 * (cb_export_abort): what it may take beyond, to let go and exit. */
#define STOP_MARGIN_S 10
/* The helper gives up releasing a mounted device within about a second
 * and keeps serving: a device still mounted this long after SIGTERM means
 * it refused. */
#define REFUSAL_S 3
#define KILL_WAIT_S 5

/* Variables the helper keeps: none can hold a secret.  The sanitizer
 * options let a test's ASan build report into its own files. */
static const char *const kept_env[] = {
	"LANG", "LC_ALL", "TZ", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};
#define ENV_MAX (sizeof kept_env / sizeof kept_env[0] + 2)

static void minimal_env(char **envp)
{
	size_t n = 0;

	envp[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; i < sizeof kept_env / sizeof kept_env[0]; i++) {
		size_t len = strlen(kept_env[i]);

		for (char **v = environ; *v; v++)
			if (strncmp(*v, kept_env[i], len) == 0 && (*v)[len] == '=') {
				envp[n++] = *v;
				break;
			}
	}
	envp[n] = NULL;
}

/* How the serving process is known: its FUSE file, or the identifier of
 * its /dev/nbdN. */
static const char *serving_tag(const struct cb_attachment *a)
{
	return a->fuse_file[0] ? a->fuse_file : a->nbd_identifier;
}

static int spawn_helper(const struct cb_engine *e, int sock, const char *tag, pid_t *pid)
{
	char *argv[] = { "cinder-brick-serve", (char *)tag, NULL };
	char *envp[ENV_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int err;

	minimal_env(envp);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sock, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, sock, STDOUT_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(pid, e->serve_helper, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		cb_set_error(err, "cannot start the serving helper %s: %s%s", e->serve_helper,
			     strerror(err), err == ENOENT ? " (is cinder-brick installed? "
			     "CINDER_BRICK_SERVE names the helper of an uninstalled build)" : "");
	return err ? -1 : 0;
}

static json_t *nbd_request(const struct cb_kernel_nbd_opts *o)
{
	return json_pack("{s:s, s:i, s:b, s:i, s:I, s:I}", "identifier", o->identifier,
			 "index", o->index, "reattach", o->reattach,
			 "connections", o->connections,
			 "io_timeout", (json_int_t)o->io_timeout,
			 "dead_conn_timeout", (json_int_t)o->dead_conn_timeout);
}

static int send_request(int sock, const struct serve_request *r)
{
	json_t *req = json_pack("{s:O, s:O*, s:b, s:b, s:b, s:s*, s:I, s:s*, s:o*}",
				"connection_info", r->connection_info,
				"backend_options", r->backend_options,
				"read_only", r->read_only, "multipath", r->multipath,
				"enforce_multipath", r->enforce_multipath,
				"paths_file", r->paths_file,
				"stop_grace", (json_int_t)r->stop_grace, "fuse", r->fuse_file,
				"nbd", r->nbd ? nbd_request(r->nbd) : NULL);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0, done = 0;

	json_decref(req);
	if (!text) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	while (done < len) {
		ssize_t n = send(sock, text + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the helper failed before reading: its answer says why */
		done += (size_t)n;
	}
	explicit_bzero(text, len);	/* a keyring, maybe */
	free(text);
	shutdown(sock, SHUT_WR);
	return 0;
}

/* Reads until EOF, which comes once the helper has daemonised or died. */
static json_t *read_answer(int sock)
{
	char *buf = malloc(ANSWER_MAX);
	size_t got = 0;
	json_t *answer;
	ssize_t n;

	if (!buf) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	while (got < ANSWER_MAX - 1 &&
	       ((n = recv(sock, buf + got, ANSWER_MAX - 1 - got, 0)) > 0 ||
		(n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	buf[got] = '\0';
	answer = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	free(buf);
	if (!answer)
		cb_set_error(EPROTO, "the serving helper died without an answer "
			     "(see syslog or the kernel log)");
	return answer;
}

/* The helper's first process exits once its daemon is ready. */
static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static int take_answer(const json_t *answer, struct cb_attachment *a)
{
	const char *error = json_string_value(json_object_get(answer, "error"));
	json_int_t pid = json_integer_value(json_object_get(answer, "pid"));

	if (error) {
		json_int_t err = json_integer_value(json_object_get(answer, "errno"));

		cb_set_error(err > 0 ? (int)err : EIO, "%s", error);
		return -1;
	}
	if (pid <= 0) {
		cb_set_error(EPROTO, "the serving helper reported no pid");
		return -1;
	}
	a->pid = (pid_t)pid;
	if (FIELD_SET(a->device, json_string_value(json_object_get(answer, "device")),
		      "device") == -1)
		return -1;
	if (!a->device[0]) {
		cb_set_error(EPROTO, "the serving helper reported no device");
		return -1;
	}
	return 0;
}

/* An empty regular file: the helper mounts the volume over it. */
static int make_mountpoint(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1) {
		cb_set_error_errno(errno, "cannot create %s", path);
		return -1;
	}
	close(fd);
	return 0;
}

int serving_start(const struct cb_engine *e, const struct serve_request *r,
		  struct cb_attachment *a)
{
	int sv[2], ret = -1;
	json_t *answer = NULL;
	pid_t pid;

	if (r->fuse_file && (FIELD_SET(a->fuse_file, r->fuse_file, "FUSE file") == -1 ||
			     make_mountpoint(r->fuse_file) == -1))
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		cb_set_error_errno(errno, "cannot start the serving helper");
		return -1;
	}
	if (spawn_helper(e, sv[1], serving_tag(a), &pid) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if (send_request(sv[0], r) == 0 && (answer = read_answer(sv[0])))
		ret = take_answer(answer, a);
	close(sv[0]);
	reap(pid);
	/* A daemon that answered with a pid but something wrong is ours to stop. */
	if (ret == -1 && a->pid > 0) {
		struct saved_error err;

		error_save(&err);
		serving_kill(a);
		error_restore(&err);
	}
	json_decref(answer);
	return ret;
}

bool serving_alive(const struct cb_attachment *a)
{
	char path[64], cmdline[8192], stat[256], *p;
	size_t n = 0;
	FILE *f;

	if (a->pid <= 0)
		return false;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)a->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(stat, sizeof stat, f);
	fclose(f);
	p = p ? strrchr(stat, ')') : NULL;
	if (!p || p[2] == 'Z')
		return false;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)a->pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(cmdline, 1, sizeof cmdline - 1, f);
		fclose(f);
	}
	/* Not a reused pid: argv, NUL-separated, holds our tag. */
	for (p = cmdline; p < cmdline + n; p += strlen(p) + 1)
		if (strcmp(p, serving_tag(a)) == 0)
			return true;
	return false;
}

static int busy_error(const char *device)
{
	cb_set_error(EBUSY, "%s is mounted or in use: unmount it first (findmnt %s)",
		     device, device);
	return -1;
}

static void tick(void)
{
	const struct timespec t = { .tv_nsec = 100 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

int serving_stop(const struct cb_attachment *a)
{
	unsigned timeout = (a->stop_grace ? a->stop_grace : CB_EXPORT_DEFAULT_STOP_GRACE) +
			   STOP_MARGIN_S;
	bool attached = device_attached(a);

	if (attached && device_busy(a))
		return busy_error(a->device);
	if (kill(a->pid, SIGTERM) == -1 && errno != ESRCH) {
		cb_set_error_errno(errno, "cannot stop the serving process %ld", (long)a->pid);
		return -1;
	}
	for (unsigned i = 0; i < timeout * 10; i++) {
		if (!serving_alive(a))
			return 0;
		/* Mounted between our check and its release: it keeps serving.
		 * Not opened to ask: its release may be waiting on the storage. */
		if (i == REFUSAL_S * 10 && attached && device_mounted(a))
			return busy_error(a->device);
		tick();
	}
	cb_set_error(ETIMEDOUT, "the serving process %ld did not exit within %u s of "
		     "SIGTERM (see syslog: its device may be held open); forcing the detach "
		     "kills it", (long)a->pid, timeout);
	return -1;
}

void serving_kill(const struct cb_attachment *a)
{
	if (a->pid > 0 && serving_alive(a))
		kill(a->pid, SIGKILL);
	for (int i = 0; i < KILL_WAIT_S * 10 && serving_alive(a); i++)
		tick();
	serving_cleanup(a);
}

void serving_cleanup(const struct cb_attachment *a)
{
	device_cleanup(a);
	if (!a->fuse_file[0])
		return;
	/* Lazy: a FUSE mount whose server died answers nothing but ENOTCONN. */
	if (umount2(a->fuse_file, MNT_DETACH) == -1 && errno != EINVAL && errno != ENOENT)
		cb_log(CB_LOG_WARNING, "cannot unmount %s: %s", a->fuse_file, strerror(errno));
}
