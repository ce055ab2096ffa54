/* Serving until told to stop, for `export` and the serving helper, and the
 * set-up of a serving process.  The signals are taken synchronously
 * (sigwait) by the main thread, so no library code ever runs in a signal
 * handler. */
#include <config.h>

#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

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

int cli_serve_until_stopped(struct cb_export *x, const sigset_t *sigs, const char *paths_file)
{
	json_t *paths = NULL;
	int sig, stopped;

	for (;;) {
		sig = next_signal(x, sigs, paths_file, &paths);
		if (sig == SIGUSR1) {
			grow(x);
			continue;
		}
		if (cb_export_release_device(x) == 0)
			break;
		cli_error("%s; still serving %s", cb_get_error(), cb_export_device(x));
	}
	json_decref(paths);
	stopped = cb_export_stop(x);
	/* The last count of a repeated error, before the process's last word. */
	cb_log_flush();
	if (stopped == -1) {
		cli_error("%s", cb_get_error());
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}
