/* The nfs backend: a raw volume file on an NFS export (Cinder's NFS
 * drivers), through libnfs in userspace: no kernel NFS client, no mount.
 *
 * connection_info data: "export" ("host:/path"), "name" (the file in it),
 * "options" (mount options as Cinder has them, e.g. "-o vers=4"; only vers
 * is honoured: 3 or 4) and "format" (only "raw" is served: anything else
 * would hand the guest format's own bytes to the filesystem).
 *
 * Every call into libnfs, opening included, runs on one event loop
 * (event_loop.c), which keeps the libnfs context to one thread at a time,
 * as it is not thread-safe.  nfs_session.c keeps a session up through
 * server restarts; nfs_io.c sends the requests on it.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "nfs_internal.h"
#include "tcp_cork.h"

/* As the other backends: requests up to the largest the server accepts;
 * libnfs splits them into RPCs of the size the NFS server takes. */
#define NFS_BLOCK_MAX (32u << 20)
/* libnfs 4.0 splits NFSv3 reads and writes into RPCs the server takes, but
 * sends an NFSv4 READ or WRITE whole: it fails to encode a WRITE of more
 * than 2 KiB ("Failed to encode COMPOUND4args"), and servers refuse large
 * READs (ganesha: 1 MiB).  Those are split here. */
#define NFS4_WRITE_MAX 2048u
#define NFS4_READ_MAX (256u << 10)
/* As iscsi.io_timeout, and below the kernel NBD client's default I/O
 * timeout (60 s), which must stay above it. */
#define IO_TIMEOUT_DEFAULT_S 60
#define IO_TIMEOUT_MAX_S 86400

/* "host:/path" (or "[v6addr]:/path") into host and path. */
static int split_export(const char *export, char *host, size_t hlen, char *path, size_t plen)
{
	const char *end = export[0] == '[' ? strstr(export, "]:") : strchr(export, ':');
	const char *h = export[0] == '[' ? export + 1 : export;
	const char *p = end ? strchr(end, ':') + 1 : NULL;

	if (!end || end == h || (size_t)(end - h) >= hlen || p[0] != '/' || strlen(p) >= plen) {
		cb_set_error(EINVAL, "connection_info data \"export\" is \"%s\", not host:/path",
			     export);
		return -1;
	}
	snprintf(host, hlen, "%.*s", (int)(end - h), h);
	snprintf(path, plen, "%s", p);
	return 0;
}

/* The NFS version the options ask for: 3 (the default) or 4. */
static int nfs_version(const char *options)
{
	const char *v = options ? strstr(options, "vers=") : NULL;

	if (!v)
		v = options ? strstr(options, "nfsvers=") : NULL;
	if (!v)
		return 3;
	v = strchr(v, '=') + 1;
	if (v[0] == '3' && (v[1] == '\0' || v[1] == ',' || v[1] == ' '))
		return 3;
	if (v[0] == '4')
		return 4;
	cb_set_error(EINVAL, "NFS mount option vers=%.8s: only versions 3 and 4 are served", v);
	return -1;
}

static int check_format(const char *format)
{
	if (!format || strcmp(format, "raw") == 0)
		return 0;
	cb_set_error(ENOTSUP, "the volume's format is \"%s\": only raw NFS volume files are "
		     "served (the guest format's own bytes would reach the filesystem)", format);
	return -1;
}

/* What to mount and open, from connection_info data and the options. */
static int parse(struct nfs_volume *v, const json_t *data, const struct cb_open_opts *opts)
{
	const char *export = json_string_value(json_object_get(data, "export"));
	const char *name = json_string_value(json_object_get(data, "name"));
	unsigned timeout;

	v->version = nfs_version(json_string_value(json_object_get(data, "options")));
	if (v->version == -1 || check_format(json_string_value(json_object_get(data, "format"))))
		return -1;
	if (!export || !name || !*name || strchr(name, '/')) {
		cb_set_error(EINVAL, "connection_info data needs an \"export\" (host:/path) and "
			     "a \"name\" (a file name)");
		return -1;
	}
	if (split_export(export, v->host, sizeof v->host, v->export_path,
			 sizeof v->export_path) == -1)
		return -1;
	if (cb_backend_option_seconds(opts, &cb_nfs_backend, "io_timeout", IO_TIMEOUT_DEFAULT_S,
				      IO_TIMEOUT_MAX_S, &timeout) == -1)
		return -1;
	v->io_timeout_ms = timeout * 1000u;
	v->read_only = opts->read_only;
	snprintf(v->where, sizeof v->where, "%s/%s", export, name);
	snprintf(v->file, sizeof v->file, "/%s", name);
	v->write_max = v->version == 4 ? NFS4_WRITE_MAX : 0;
	v->read_max = v->version == 4 ? NFS4_READ_MAX : 0;
	return 0;
}

static int loop_poll_fds(void *ctx, struct pollfd *p)
{
	return nfs_session_poll_fd(ctx, p);
}

static void loop_service(void *ctx, struct pollfd *p, int n)
{
	struct nfs_volume *v = ctx;
	bool cork;

	/* A descriptor of a session retired since it was polled is not
	 * this one's, even when its number was reused. */
	if (n && v->nfs && !v->broken && p->fd == nfs_get_fd(v->nfs)) {
		/* A batch of RPCs: see tcp_cork.h. */
		cork = v->unsent > 1 && (p->revents & POLLOUT);
		v->unsent = 0;
		if (cork)
			cb_tcp_cork(p->fd, 1);
		if (nfs_service(v->nfs, p->revents) < 0)
			nfs_session_broken(v, nfs_get_error(v->nfs));
		else if (cork)
			cb_tcp_cork(p->fd, 0);
	} else if (n && v->nfs && !v->broken && nfs_service(v->nfs, 0) < 0) {
		nfs_session_broken(v, nfs_get_error(v->nfs));
	}
	nfs_session_run(v, cb_now_ms());
}

/* libnfs keeps its RPC timeouts in nfs_service(); the session its
 * reconnects in nfs_session_run() and deadlines, at 100 ms granularity,
 * in nfs_session_expire(). */
static void loop_tick(void *ctx)
{
	struct nfs_volume *v = ctx;

	uint64_t now = cb_now_ms();

	if (v->nfs && !v->broken && nfs_service(v->nfs, 0) < 0)
		nfs_session_broken(v, nfs_get_error(v->nfs));
	nfs_session_expire(v, now);
	nfs_session_run(v, now);
}

static void loop_submit(void *ctx, struct cb_io *io)
{
	nfs_io_submit(ctx, io);
}

static void nfs_backend_close(void *handle)
{
	struct nfs_volume *v = handle;

	cb_inflight_drain(&v->inflight);
	cb_event_loop_stop(v->loop);
	nfs_session_close(v);
	nfs_io_free(v);
	pthread_cond_destroy(&v->open_done);
	pthread_mutex_destroy(&v->open_lock);
	free(v);
}

static void *nfs_backend_open(const json_t *data, const struct cb_open_opts *opts)
{
	struct nfs_volume *v = calloc(1, sizeof *v);
	struct cb_event_source src = {
		.poll_fds = loop_poll_fds, .service = loop_service,
		.submit = loop_submit, .tick = loop_tick, .tick_ms = 100,
	};

	if (!v) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	cb_inflight_init(&v->inflight);
	nfs_io_init(v);
	pthread_mutex_init(&v->open_lock, NULL);
	pthread_cond_init(&v->open_done, NULL);
	if (parse(v, data, opts) == -1)
		goto fail;
	nfs_session_open(v);
	src.ctx = v;
	v->loop = cb_event_loop_start(&src);
	if (!v->loop)
		goto fail;
	nfs_session_wait_open(v);
	if (!v->open_err)
		return v;
	cb_set_error(v->open_err, "%s", v->open_error);
fail:
	nfs_backend_close(v);
	return NULL;
}

static void nfs_backend_submit(void *handle, struct cb_io *io)
{
	struct nfs_volume *v = handle;

	bool alone = cb_inflight_start(&v->inflight) == 1;

	cb_event_loop_submit(v->loop, io, alone);
}

static int nfs_backend_poll(void *handle, struct pollfd *fds, int n, int timeout_ms)
{
	struct nfs_volume *v = handle;

	return cb_event_loop_poll(v->loop, fds, n, timeout_ms);
}

static void nfs_backend_poll_leave(void *handle)
{
	struct nfs_volume *v = handle;

	cb_event_loop_leave(v->loop);
}

static void nfs_backend_get_caps(void *handle, struct cb_backend_caps *caps)
{
	struct nfs_volume *v = handle;

	*caps = (struct cb_backend_caps){
		.size = v->size,
		.block_min = 1,
		.block_pref = 4096,
		.block_max = NFS_BLOCK_MAX,
		.logical_block_size = 512,
		.read_only = v->read_only,
		.can_flush = true,
		/* One context, one server-side file: every connection sees
		 * every write. */
		.multi_conn = true,
	};
}

static const struct cb_backend_option nfs_options[] = {
	{ .name = "io_timeout",
	  .help = "seconds a request may wait for the server, reconnects included, before it "
		  "fails (default 60)" },
	{ .name = NULL },
};

static const char *const nfs_volume_types[] = { "nfs", NULL };

const struct cb_backend_ops cb_nfs_backend = {
	.name = "nfs",
	.volume_types = nfs_volume_types,
	.options = nfs_options,
	.open = nfs_backend_open,
	.get_caps = nfs_backend_get_caps,
	.submit = nfs_backend_submit,
	.poll = nfs_backend_poll,
	.poll_leave = nfs_backend_poll_leave,
	.close = nfs_backend_close,
};
