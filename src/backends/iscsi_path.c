/* One iSCSI path: a session with one portal, kept up.
 *
 * libiscsi's own reconnect re-sends a broken session's requests on the
 * same portal only once it is back, which would hold them there while
 * another path could serve them.  So it is off (noautoreconnect): a
 * broken session's requests are cancelled back to us, go to wait for any
 * path (iscsi_io.c), and the session logs in again here, with bounded
 * backoff.  A session is broken when its socket closes or errs, when a
 * request fails in transport, or when NOP-Out pings go unanswered (a
 * target that hangs without closing).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi_internal.h"
#include "tcp_cork.h"
#include "lib/error.h"
#include "lib/log.h"

#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 5000u
/* A ping a second; a path with this many unanswered is dead. */
#define NOP_INTERVAL_MS 1000u
#define NOPS_UNANSWERED_MAX 5
/* Bounds a login's PDUs and its TCP connect (SYN retries). */
#define LOGIN_TIMEOUT_S 10
#define TCP_SYN_RETRIES 3

static void set_state(struct iscsi_path *p, enum iscsi_path_state s)
{
	struct iscsi_volume *v = p->v;
	struct iscsi_path_view *shown = &v->shown[p - v->paths];

	p->state = s;
	p->since_ms = cb_now_ms();
	pthread_mutex_lock(&v->shown_lock);
	/* For people, a path is up or down: logging in again is down. */
	if (shown->up != (s == PATH_UP) || !shown->since) {
		shown->up = s == PATH_UP;
		shown->since = time(NULL);
	}
	memcpy(shown->error, p->error, sizeof shown->error);
	pthread_mutex_unlock(&v->shown_lock);
}

json_t *iscsi_paths_json(struct iscsi_volume *v)
{
	json_t *all = json_array();
	unsigned i;

	pthread_mutex_lock(&v->shown_lock);
	for (i = 0; all && i < v->n_paths; i++) {
		const struct iscsi_path_view *s = &v->shown[i];
		const struct iscsi_path_address *a = &v->target.paths[i];
		json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:I, s:s*}", "portal", a->portal,
				      "iqn", a->iqn, "lun", a->lun, "state", s->up ? "up" : "down",
				      "since", (json_int_t)s->since,
				      "error", s->up ? NULL : s->error);

		if (!p || json_array_append_new(all, p)) {
			json_decref(all);
			all = NULL;
		}
	}
	pthread_mutex_unlock(&v->shown_lock);
	return all;
}

struct iscsi_context *iscsi_new_context(const char *initiator, const char *iqn,
				       const struct iscsi_chap *chap)
{
	struct iscsi_context *ctx = iscsi_create_context(initiator);

	if (!ctx)
		return NULL;
	if ((iqn && iscsi_set_targetname(ctx, iqn)) ||
	    iscsi_set_session_type(ctx, iqn ? ISCSI_SESSION_NORMAL : ISCSI_SESSION_DISCOVERY) ||
	    (chap && iscsi_set_initiator_username_pwd(ctx, chap->user, chap->password))) {
		iscsi_destroy_context(ctx);
		return NULL;
	}
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_tcp_syncnt(ctx, TCP_SYN_RETRIES);
	iscsi_set_timeout(ctx, LOGIN_TIMEOUT_S);
	return ctx;
}

static struct iscsi_context *new_context(const struct iscsi_path *p)
{
	const struct iscsi_volume *v = p->v;

	return iscsi_new_context(v->initiator, p->addr->iqn,
				 v->target.chap ? &v->target.session : NULL);
}

/* What a login failure means, for the user: libiscsi's words say which
 * status the target answered. */
static const char *login_hint(const struct iscsi_path *p, const char *err)
{
	if (strstr(err, "Authentication failure"))
		return p->v->target.chap ? ": the target refused the CHAP user and password "
					   "(auth_username / auth_password)"
					 : ": the target wants CHAP credentials, and the "
					   "connection_info has none";
	if (strstr(err, "Authorization failure"))
		return ": the target does not admit this host's initiator name (its ACL): "
		       "the attachment must be made with the IQN that get-connector reports";
	/* Targets (tgtd) hide what an initiator may not see behind this. */
	if (strstr(err, "Target not found") || strstr(err, "Not found"))
		return ": the portal has no target of that IQN, or the target's ACL does not "
		       "admit this host's initiator name";
	if (strstr(err, "refused"))
		return ": nothing listens there";
	return "";
}

static void record_error(struct iscsi_path *p, const char *err)
{
	const char *hint = login_hint(p, err);

	snprintf(p->error, sizeof p->error, "%s%s%s%s", err, hint,
		 strstr(hint, "initiator name") ? " " : "",
		 strstr(hint, "initiator name") ? p->v->initiator : "");
}

/* After a login: requests carry no PDU timeout of libiscsi's; a hung
 * session is found by the pings instead, and a request's own wait is
 * bounded by the volume's I/O timeout. */
static void path_up(struct iscsi_path *p)
{
	iscsi_set_timeout(p->ctx, 0);
	p->failed_logins = 0;
	p->error[0] = '\0';
	set_state(p, PATH_UP);
}

int iscsi_path_login_sync(struct iscsi_path *p)
{
	p->ctx = new_context(p);
	if (!p->ctx) {
		cb_set_error(ENOMEM, "cannot make an iSCSI context");
		return -1;
	}
	if (iscsi_full_connect_sync(p->ctx, p->addr->portal, p->addr->lun) == 0) {
		path_up(p);
		return 0;
	}
	record_error(p, iscsi_get_error(p->ctx));
	iscsi_destroy_context(p->ctx);
	p->ctx = NULL;
	p->failed_logins = 1;
	p->retry_at_ms = cb_now_ms() + BACKOFF_FIRST_MS;
	set_state(p, PATH_DOWN);
	cb_set_error(EIO, "cannot log in to iSCSI target %s LUN %d at %s: %s", p->addr->iqn,
		     p->addr->lun, p->addr->portal, p->error);
	return -1;
}

static void login_done(struct iscsi_context *ctx, int status, void *command_data, void *arg)
{
	struct iscsi_path *p = arg;

	if (status == SCSI_STATUS_GOOD && p->state == PATH_CONNECTING) {
		path_up(p);
		cb_log(CB_LOG_INFO, "iSCSI path %s is up again", p->addr->portal);
		return;
	}
	iscsi_path_fail(p, iscsi_get_error(ctx));
}

static void connected(struct iscsi_context *ctx, int status, void *command_data, void *arg)
{
	struct iscsi_path *p = arg;

	if (status != SCSI_STATUS_GOOD || iscsi_login_async(ctx, login_done, p) != 0)
		iscsi_path_fail(p, iscsi_get_error(ctx));
}

/* Connect, then log in, as two steps of ours: iscsi_full_connect_async
 * allocates a state of its own that a context torn down mid-login (the
 * target gone again) never frees. */
static void login_async(struct iscsi_path *p)
{
	p->ctx = new_context(p);
	set_state(p, PATH_CONNECTING);
	if (p->ctx && iscsi_connect_async(p->ctx, p->addr->portal, connected, p) == 0)
		return;
	iscsi_path_fail(p, p->ctx ? iscsi_get_error(p->ctx) : "out of memory");
}

void iscsi_path_fail(struct iscsi_path *p, const char *why)
{
	if (p->state == PATH_FAILED || p->state == PATH_DOWN)
		return;
	if (p->state == PATH_UP)
		cb_log(CB_LOG_WARNING, "iSCSI path %s failed (%s); its requests go to %s",
		       p->addr->portal, why && *why ? why : "connection lost",
		       iscsi_paths_up(p->v) > 1 ? "the other paths" : "wait for a path");
	record_error(p, why && *why ? why : "connection lost");
	set_state(p, PATH_FAILED);
}

static void reap(struct iscsi_path *p)
{
	unsigned backoff = BACKOFF_FIRST_MS << (p->failed_logins < 6 ? p->failed_logins : 6);

	/* Every request on it comes back (CANCELLED) to wait for a path. */
	iscsi_scsi_cancel_all_tasks(p->ctx);
	iscsi_destroy_context(p->ctx);
	p->ctx = NULL;
	p->failed_logins++;
	p->retry_at_ms = cb_now_ms() + (backoff < BACKOFF_MAX_MS ? backoff : BACKOFF_MAX_MS);
	set_state(p, PATH_DOWN);
}

void iscsi_paths_reap(struct iscsi_volume *v)
{
	unsigned i;

	for (i = 0; i < v->n_paths; i++)
		if (v->paths[i].state == PATH_FAILED)
			reap(&v->paths[i]);
}

static void ping(struct iscsi_path *p, uint64_t now)
{
	if (now - p->ping_ms < NOP_INTERVAL_MS)
		return;
	p->ping_ms = now;
	/* Also libiscsi's scan for requests past their PDU timeout. */
	if (iscsi_service(p->ctx, 0) < 0)
		iscsi_path_fail(p, iscsi_get_error(p->ctx));
	else if (iscsi_get_nops_in_flight(p->ctx) >= NOPS_UNANSWERED_MAX)
		iscsi_path_fail(p, "the target stopped answering NOP-Out pings");
	else if (iscsi_nop_out_async(p->ctx, NULL, NULL, 0, NULL) != 0)
		iscsi_path_fail(p, iscsi_get_error(p->ctx));
}

void iscsi_paths_tick(struct iscsi_volume *v)
{
	uint64_t now = cb_now_ms();
	unsigned i;

	for (i = 0; i < v->n_paths; i++) {
		struct iscsi_path *p = &v->paths[i];

		if (p->state == PATH_UP)
			ping(p, now);
		else if (p->state == PATH_CONNECTING)
			iscsi_service(p->ctx, 0);	/* the login's timeout */
		else if (p->state == PATH_DOWN && now >= p->retry_at_ms)
			login_async(p);
	}
	iscsi_paths_reap(v);
}

int iscsi_paths_poll_fds(struct iscsi_volume *v, struct pollfd *p, struct iscsi_path **of)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < v->n_paths; i++) {
		struct iscsi_path *path = &v->paths[i];
		int events;

		if (path->state != PATH_UP && path->state != PATH_CONNECTING)
			continue;
		events = iscsi_which_events(path->ctx);
		if (!events)
			continue;
		/* A peer's close shows even with nothing to read or write. */
		p[n] = (struct pollfd){ .fd = iscsi_get_fd(path->ctx),
					.events = (short)(events | POLLRDHUP) };
		of[n++] = path;
	}
	return n;
}

void iscsi_paths_service(struct iscsi_volume *v, struct pollfd *p, struct iscsi_path **of,
			 int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct iscsi_path *path = of[i];
		short bad = POLLRDHUP | POLLHUP | POLLERR | POLLNVAL;

		bool cork;

		if (!p[i].revents || (path->state != PATH_UP && path->state != PATH_CONNECTING))
			continue;
		/* A batch of PDUs: see tcp_cork.h. */
		cork = path->unsent > 1 && (p[i].revents & POLLOUT);
		path->unsent = 0;
		if (cork)
			cb_tcp_cork(p[i].fd, 1);
		if (iscsi_service(path->ctx, p[i].revents & ~POLLRDHUP) < 0)
			iscsi_path_fail(path, iscsi_get_error(path->ctx));
		else if (p[i].revents & POLLERR)
			iscsi_path_fail(path, "socket error");
		else if (p[i].revents & bad)
			iscsi_path_fail(path, "the target closed the connection");
		else if (cork)
			cb_tcp_cork(p[i].fd, 0);
	}
	iscsi_paths_reap(v);
}

unsigned iscsi_paths_up(const struct iscsi_volume *v)
{
	unsigned i, n = 0;

	for (i = 0; i < v->n_paths; i++)
		n += v->paths[i].state == PATH_UP;
	return n;
}

void iscsi_paths_close(struct iscsi_volume *v)
{
	unsigned i;

	for (i = 0; i < v->n_paths; i++) {
		struct iscsi_path *p = &v->paths[i];

		if (!p->ctx)
			continue;
		if (p->state == PATH_UP)
			iscsi_logout_sync(p->ctx);
		iscsi_destroy_context(p->ctx);
		p->ctx = NULL;
	}
}
