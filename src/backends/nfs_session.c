/* The nfs backend's session: one libnfs context, mounted, with the volume
 * file open.  When it fails (the connection drops, the server restarts,
 * an NFSv4 server forgets our client id and open state, or it holds a
 * request past the I/O timeout), it is retired whole and a new one is
 * mounted and opened, with back-off, for as long as requests can wait.
 *
 * libnfs 4.0 reconnects an NFSv3 context by itself but an NFSv4 one not
 * at all: on a lost NFSv4 connection it reports POLLHUP on every
 * nfs_service() and never fails the requests.  Nor would a reconnect
 * alone do for NFSv4: a restarted server has forgotten the client id and
 * the open's stateid that every READ and WRITE carries.  A new context
 * does it all (SETCLIENTID, OPEN) the way the first one did, for either
 * version, so libnfs's own reconnects are off.
 *
 * Everything here runs under the event loop's lock (see nfs_internal.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs4.h>	/* NFS_V4 */

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "nfs_internal.h"

/* One attempt at mounting and opening; a server that takes longer is
 * tried again. */
#define CONNECT_TIMEOUT_MS 10000u
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 5000u

/* NFSv4: each context's own verifier.  libnfs names a client after the
 * process and the second it was made in: a new context of the same
 * second, with another verifier, tells the server the client restarted,
 * so it drops the retired context's state at once; one of a later second
 * is another client, whose predecessor's state lasts until its lease
 * runs out.  (Naming a client ourselves leaks libnfs 4.0's own name.) */
static void new_verifier(struct nfs_context *nfs)
{
	static unsigned serial;
	uint64_t x = ((uint64_t)getpid() << 40) ^ (cb_now_ms() << 8) ^
		     __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	char verifier[NFS4_VERIFIER_SIZE];

	for (size_t i = 0; i < sizeof verifier; i++, x >>= 8)
		verifier[i] = (char)(x & 0xff);
	nfs4_set_verifier(nfs, verifier);
}

static struct nfs_context *new_context(struct nfs_volume *v)
{
	struct nfs_context *nfs = nfs_init_context();

	if (!nfs) {
		cb_set_error(ENOMEM, "cannot make an NFS context");
		return NULL;
	}
	nfs_set_autoreconnect(nfs, 0);
	/* An RPC unanswered this long fails (EINTR), and its request is
	 * sent again on a new session, until its own deadline. */
	nfs_set_timeout(nfs, (int)v->io_timeout_ms);
	if (v->version == 4) {
		if (nfs_set_version(nfs, NFS_V4) != 0) {
			cb_set_error(ENOTSUP, "this libnfs has no NFSv4");
			nfs_destroy_context(nfs);
			return NULL;
		}
		new_verifier(nfs);
	}
	return nfs;
}

void nfs_session_broken(struct nfs_volume *v, const char *why)
{
	if (v->broken)
		return;
	v->broken = true;
	snprintf(v->last_error, sizeof v->last_error, "%s", why ? why : "unknown error");
}

static void forget_fh(int status, struct nfs_context *nfs, void *data, void *arg)
{
}

static void retire(struct nfs_volume *v, uint64_t now)
{
	struct nfs_context *old = v->nfs;
	bool was_up = v->state == NFS_SESSION_UP;

	v->nfs = NULL;
	v->broken = false;
	v->state = NFS_SESSION_DOWN;
	/* First, so that the callbacks the destruction makes (cancelled)
	 * find their requests given up. */
	nfs_io_requeue_sent(v);
	if (old) {
		/* Frees the handle; its CLOSE is cancelled with the rest. */
		if (v->fh)
			nfs_close_async(old, v->fh, forget_fh, NULL);
		nfs_destroy_context(old);
	}
	v->fh = NULL;
	if (was_up) {
		cb_log(CB_LOG_WARNING, "%s: lost the NFS session (%s); reconnecting, requests "
		       "wait up to nfs.io_timeout (%u s)", v->where, v->last_error,
		       v->io_timeout_ms / 1000);
		v->down_since_ms = now;
		v->backoff_ms = BACKOFF_FIRST_MS;
		v->attempts = 0;
		v->retry_at_ms = now;
		return;
	}
	cb_log(CB_LOG_DEBUG, "%s: reconnect attempt %u failed: %s", v->where, v->attempts,
	       v->last_error);
	v->retry_at_ms = now + v->backoff_ms;
	v->backoff_ms = v->backoff_ms * 2 < BACKOFF_MAX_MS ? v->backoff_ms * 2 : BACKOFF_MAX_MS;
}

/* The first session's outcome, for nfs_session_open(). */
static void first_outcome(struct nfs_volume *v, int err, const char *what, const char *msg)
{
	pthread_mutex_lock(&v->open_lock);
	v->open_err = err;
	if (err && strcmp(what, "mount") == 0)
		snprintf(v->open_error, sizeof v->open_error, "cannot mount %s:%s (NFSv%d): %s",
			 v->host, v->export_path, v->version, msg ? msg : "unknown error");
	else if (err)
		snprintf(v->open_error, sizeof v->open_error, "cannot %s %s: %s", what, v->where,
			 msg ? msg : "unknown error");
	v->opening = false;
	pthread_cond_signal(&v->open_done);
	pthread_mutex_unlock(&v->open_lock);
}

static void attempt_failed(struct nfs_volume *v, const char *what, const char *msg)
{
	char why[sizeof v->last_error];

	if (v->opening)
		first_outcome(v, EIO, what, msg);
	snprintf(why, sizeof why, "%s: %s", what, msg ? msg : "unknown error");
	nfs_session_broken(v, why);
}

static void session_up(struct nfs_volume *v)
{
	v->state = NFS_SESSION_UP;
	if (v->opening) {
		first_outcome(v, 0, NULL, NULL);
		return;
	}
	cb_log(CB_LOG_INFO, "%s: NFS session back after %.1f s (%u attempt%s); waiting "
	       "requests are sent again", v->where, (double)(cb_now_ms() - v->down_since_ms) / 1000,
	       v->attempts, v->attempts == 1 ? "" : "s");
	v->last_error[0] = '\0';
	nfs_io_resend(v);
}

static void statted(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct nfs_volume *v = arg;

	if (nfs != v->nfs)
		return;		/* an attempt given up */
	if (status < 0) {
		attempt_failed(v, "stat", data);
		return;
	}
	if (v->opening)
		v->size = ((const struct nfs_stat_64 *)data)->nfs_size;
	session_up(v);
}

static void opened(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct nfs_volume *v = arg;

	if (nfs != v->nfs)
		return;
	if (status < 0) {
		attempt_failed(v, "open", data);
		return;
	}
	v->fh = data;
	if (nfs_fstat64_async(nfs, v->fh, statted, v) < 0)
		attempt_failed(v, "stat", nfs_get_error(nfs));
}

static void mounted(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct nfs_volume *v = arg;

	if (nfs != v->nfs)
		return;
	if (status < 0)
		attempt_failed(v, "mount", data);
	else if (nfs_open_async(nfs, v->file, v->read_only ? O_RDONLY : O_RDWR, opened, v) < 0)
		attempt_failed(v, "open", nfs_get_error(nfs));
}

static void connect_start(struct nfs_volume *v, uint64_t now)
{
	v->attempts++;
	v->nfs = new_context(v);
	if (!v->nfs) {
		attempt_failed(v, "mount", cb_get_error());
		return;
	}
	v->state = NFS_SESSION_CONNECTING;
	v->connect_deadline_ms = now + CONNECT_TIMEOUT_MS;
	if (nfs_mount_async(v->nfs, v->host, v->export_path, mounted, v) < 0)
		attempt_failed(v, "mount", nfs_get_error(v->nfs));
}

void nfs_session_run(struct nfs_volume *v, uint64_t now)
{
	if (v->state == NFS_SESSION_CONNECTING && !v->broken && now >= v->connect_deadline_ms)
		attempt_failed(v, "mount", "no answer within 10 s");
	if (v->broken)
		retire(v, now);
	/* A first open that failed is not tried again: the opener is
	 * closing the volume (and libnfs 4.0 leaks a mount cut short). */
	if (v->state == NFS_SESSION_DOWN && now >= v->retry_at_ms && !v->open_err) {
		connect_start(v, now);
		if (v->broken)
			retire(v, now);
	}
	if (v->state == NFS_SESSION_UP)
		nfs_io_resend(v);
}

void nfs_session_expire(struct nfs_volume *v, uint64_t now)
{
	/* A request the session holds past its deadline: the server has it,
	 * or has hung.  Only giving the session up frees its buffers. */
	if (nfs_io_expire(v, now)) {
		nfs_session_broken(v, "a request got no answer within nfs.io_timeout");
		retire(v, now);
		nfs_io_expire(v, now);
	}
}

void nfs_session_open(struct nfs_volume *v)
{
	v->opening = true;
	v->state = NFS_SESSION_DOWN;
	connect_start(v, cb_now_ms());
}

void nfs_session_wait_open(struct nfs_volume *v)
{
	pthread_mutex_lock(&v->open_lock);
	while (v->opening)
		pthread_cond_wait(&v->open_done, &v->open_lock);
	pthread_mutex_unlock(&v->open_lock);
}

int nfs_session_poll_fd(struct nfs_volume *v, struct pollfd *p)
{
	if (!v->nfs || v->broken)
		return 0;
	p->fd = nfs_get_fd(v->nfs);
	p->events = (short)nfs_which_events(v->nfs);
	return p->fd >= 0 && p->events;
}

/* The final flush has been done: the handle is let go with no CLOSE (an
 * NFSv4 server drops the open when the lease ends), so that a stop never
 * waits on the server. */
void nfs_session_close(struct nfs_volume *v)
{
	if (v->nfs && v->fh)
		nfs_close_async(v->nfs, v->fh, forget_fh, NULL);
	if (v->nfs)
		nfs_destroy_context(v->nfs);
	v->nfs = NULL;
	v->fh = NULL;
}
