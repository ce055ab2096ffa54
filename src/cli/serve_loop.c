/* Serving until told to stop, for `export` and the serving helper, and the
 * set-up of a serving process.  The signals are taken synchronously
 * (sigwait) by the main thread, so no library code ever runs in a signal
 * handler.  A stop has a bound: a watchdog thread cuts it short once its
 * grace period is over, and the process exits. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/export.h"
#include "lib/error.h"
#include "lib/log.h"

void cli_block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	/* Every thread inherits this mask, so only sigwait() sees them. */
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* libnfs allocates the whole of every request's RPC (a 1 MiB write, a
 * 1 MiB read reply) and frees it on completion.  glibc serves a block that
 * size by mmap, or from an arena it trims whenever the free top exceeds
 * twice the largest block freed so far: with a few such requests in
 * flight, either way every request faults its pages in anew: a quarter of
 * the serving process's CPU on 1 MiB NFS writes.  Fixed thresholds keep
 * up to 64 MiB of freed memory for the next requests instead. */
void cli_tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

/* SIGUSR1: the volume grew (cinder-brick resize sends it). */
static void grow(struct cb_export *x)
{
	uint64_t size;

	if (cb_export_grow(x, &size) == -1)
		cli_error("resize: %s", cb_get_error());
	else
		cb_log(CB_LOG_INFO, "the volume is now served as %" PRIu64 " bytes", size);
}

/* A block device still in use (a mounted filesystem) cannot go away
 * without failing that filesystem's I/O: it keeps being served. */
/* The next signal; with a paths file, it is refreshed meanwhile. */
static int next_signal(struct cb_export *x, const sigset_t *sigs, const char *paths_file,
		       json_t **paths)
{
	const struct timespec second = { .tv_sec = 1 };
	int sig;

	for (;;) {
		if (paths_file)
			cb_export_publish_paths(x, paths_file, paths);
		sig = paths_file ? sigtimedwait(sigs, NULL, &second) : sigwaitinfo(sigs, NULL);
		if (sig > 0)
			return sig;
	}
}

/* The bound on one stop: from the signal on, the stop has grace seconds
 * to end (or be refused), after which the watchdog aborts the export and
 * ends the process, whatever the main thread is waiting for. */
struct watchdog {
	unsigned grace;
	const char *pidfile;
	bool armed;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool over;			/* the stop ended, or was refused */
	struct timespec deadline;	/* CLOCK_MONOTONIC */
	struct cb_export_abort_plan plan;
	pthread_t thread;
};

static void *watch(void *arg)
{
	struct watchdog *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->over && pthread_cond_timedwait(&w->cond, &w->lock, &w->deadline) != ETIMEDOUT)
		;
	if (w->over) {
		pthread_mutex_unlock(&w->lock);
		return NULL;
	}
	/* The lock stays held: a stop that ends now waits in disarm() for
	 * the exit. */
	cb_log_flush();
	cli_error("the volume's storage did not answer within the stop's grace period "
		  "(%u s): its requests still waiting fail with EIO, so writes among them "
		  "may be lost; letting go of the device and exiting", w->grace);
	cb_export_abort(&w->plan);
	if (w->pidfile)
		unlink(w->pidfile);
	_exit(EXIT_FAILURE_RUNTIME);
}

static void arm(struct watchdog *w, const struct cb_export *x)
{
	pthread_condattr_t attr;
	int err;

	if (cb_export_abort_plan(x, &w->plan) == -1) {
		cli_error("stopping without a bound: %s", cb_get_error());
		return;
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&w->lock, NULL);
	w->over = false;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += w->grace;
	err = pthread_create(&w->thread, NULL, watch, w);
	if (err) {
		cli_error("stopping without a bound: cannot start a thread: %s", strerror(err));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		cb_export_abort_plan_clear(&w->plan);
		return;
	}
	w->armed = true;
}

static void disarm(struct watchdog *w)
{
	if (!w->armed)
		return;
	pthread_mutex_lock(&w->lock);
	w->over = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	cb_export_abort_plan_clear(&w->plan);
	w->armed = false;
}

int cli_serve_until_stopped(struct cb_export *x, const sigset_t *sigs,
			    const struct cli_serve_opts *o)
{
	struct watchdog w = {
		.grace = o->stop_grace ? o->stop_grace : CB_EXPORT_DEFAULT_STOP_GRACE,
		.pidfile = o->pidfile,
	};
	json_t *paths = NULL;
	int sig, stopped, status = EXIT_OK;

	for (;;) {
		sig = next_signal(x, sigs, o->paths_file, &paths);
		if (sig == SIGUSR1) {
			grow(x);
			continue;
		}
		arm(&w, x);
		if (cb_export_release_device(x) == 0)
			break;
		cli_error("%s; still serving %s", cb_get_error(), cb_export_device(x));
		disarm(&w);
	}
	json_decref(paths);
	stopped = cb_export_stop(x);
	disarm(&w);
	/* The last count of a repeated error, before the process's last word. */
	cb_log_flush();
	if (stopped == -1) {
		cli_error("%s", cb_get_error());
		status = EXIT_FAILURE_RUNTIME;
	}
	if (o->pidfile)
		unlink(o->pidfile);
	return status;
}
