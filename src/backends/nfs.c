/* The nfs backend: a raw volume file on an NFS export (Cinder's NFS
 * drivers), through libnfs in userspace: no kernel NFS client, no mount.
 *
 * connection_info data: "export" ("host:/path"), "name" (the file in it),
 * "options" (mount options as Cinder has them, e.g. "-o vers=4"; only vers
 * is honoured: 3 or 4) and "format" (only "raw" is served: anything else
 * would hand the guest format's own bytes to the filesystem).
 *
 * Opening uses libnfs's synchronous calls; after that, every request goes
 * through one event loop (event_loop.c), which keeps the libnfs context to
 * one thread at a time, as it is not thread-safe.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs4.h>	/* NFS_V4 */

#include "backend.h"
#include "event_loop.h"
#include "inflight.h"
#include "lib/error.h"
#include "lib/log.h"

/* As the other backends: requests up to the largest the server accepts;
 * libnfs splits them into RPCs of the size the NFS server takes. */
#define NFS_BLOCK_MAX (32u << 20)
/* libnfs 4.0 splits NFSv3 reads and writes into RPCs the server takes, but
 * sends an NFSv4 READ or WRITE whole: it fails to encode a WRITE of more
 * than 2 KiB ("Failed to encode COMPOUND4args"), and servers refuse large
 * READs (ganesha: 1 MiB).  Those are split here. */
#define NFS4_WRITE_MAX 2048u
#define NFS4_READ_MAX (256u << 10)

struct nfs_volume {
	struct nfs_context *nfs;
	struct nfsfh *fh;
	struct cb_event_loop *loop;
	uint64_t size;
	bool read_only;
	uint32_t read_max, write_max;	/* 0: no limit */
	char where[512];		/* host:/path/name, for messages */
	struct cb_inflight inflight;
};

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

static int mount_and_open(struct nfs_volume *v, const json_t *data)
{
	const char *export = json_string_value(json_object_get(data, "export"));
	const char *name = json_string_value(json_object_get(data, "name"));
	char host[256], path[1024], file[1280];
	struct nfs_stat_64 st;
	int version = nfs_version(json_string_value(json_object_get(data, "options")));

	if (version == -1 || check_format(json_string_value(json_object_get(data, "format"))))
		return -1;
	if (!export || !name || !*name || strchr(name, '/')) {
		cb_set_error(EINVAL, "connection_info data needs an \"export\" (host:/path) and "
			     "a \"name\" (a file name)");
		return -1;
	}
	if (split_export(export, host, sizeof host, path, sizeof path) == -1)
		return -1;
	snprintf(v->where, sizeof v->where, "%s/%s", export, name);
	snprintf(file, sizeof file, "/%s", name);
	if (version == 4 && nfs_set_version(v->nfs, NFS_V4) != 0) {
		cb_set_error(ENOTSUP, "this libnfs has no NFSv4");
		return -1;
	}
	if (nfs_mount(v->nfs, host, path) != 0) {
		cb_set_error(EIO, "cannot mount %s (NFSv%d): %s", export, version,
			     nfs_get_error(v->nfs));
		return -1;
	}
	if (nfs_open(v->nfs, file, v->read_only ? O_RDONLY : O_RDWR, &v->fh) != 0) {
		cb_set_error(EIO, "cannot open %s: %s", v->where, nfs_get_error(v->nfs));
		return -1;
	}
	if (nfs_fstat64(v->nfs, v->fh, &st) != 0) {
		cb_set_error(EIO, "cannot stat %s: %s", v->where, nfs_get_error(v->nfs));
		return -1;
	}
	v->size = st.nfs_size;
	v->write_max = version == 4 ? NFS4_WRITE_MAX : 0;
	v->read_max = version == 4 ? NFS4_READ_MAX : 0;
	return 0;
}

static void done(struct nfs_volume *v, struct cb_io *io, int err)
{
	io->complete(io, err);
	cb_inflight_done(&v->inflight);
}

/* libnfs's callbacks get the request as their private data, and the
 * request holds its volume in io->next, the backend's while in flight
 * (libnfs 4.0 has no private data per context). */
static struct nfs_volume *volume_of(struct cb_io *io)
{
	return (struct nfs_volume *)(void *)io->next;
}

static void read_done(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct cb_io *io = arg;
	struct nfs_volume *v = volume_of(io);

	if (status < 0) {
		cb_log(CB_LOG_ERROR, "%s: read: %s", v->where, (const char *)data);
		done(v, io, -status);
		return;
	}
	if (status > 0)
		memcpy(io->buf, data, (size_t)status);
	/* Past the end of a file that shrank behind us: zeroes. */
	memset((char *)io->buf + status, 0, io->length - (size_t)status);
	done(v, io, 0);
}

static void write_done(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct cb_io *io = arg;
	struct nfs_volume *v = volume_of(io);

	if (status < 0)
		cb_log(CB_LOG_ERROR, "%s: write: %s", v->where, (const char *)data);
	done(v, io, status < 0 ? -status : (uint32_t)status == io->length ? 0 : EIO);
}

static void flush_done(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct cb_io *io = arg;
	struct nfs_volume *v = volume_of(io);

	if (status < 0)
		cb_log(CB_LOG_ERROR, "%s: commit: %s", v->where, (const char *)data);
	done(v, io, status < 0 ? -status : 0);
}

/* A request sent in parts: done once every part is. */
struct split {
	struct nfs_volume *v;
	struct cb_io *io;
	unsigned left;
	int err;
	struct part {
		struct split *split;
		uint32_t off, len;
	} parts[];
};

static void part_done(int status, struct nfs_context *nfs, void *data, void *arg)
{
	struct part *p = arg;
	struct split *s = p->split;

	if (status < 0 && !s->err) {
		cb_log(CB_LOG_ERROR, "%s: %s: %s", s->v->where,
		       s->io->op == CB_IO_READ ? "read" : "write", (const char *)data);
		s->err = -status;
	} else if (p->len && s->io->op == CB_IO_READ) {
		if (status > 0)
			memcpy((char *)s->io->buf + p->off, data, (size_t)status);
		memset((char *)s->io->buf + p->off + status, 0, p->len - (size_t)status);
	}
	if (--s->left)
		return;
	done(s->v, s->io, s->err);
	free(s);
}

static int queue_part(struct nfs_volume *v, struct cb_io *io, struct part *p)
{
	if (io->op == CB_IO_READ)
		return nfs_pread_async(v->nfs, v->fh, io->offset + p->off, p->len, part_done, p);
	return nfs_pwrite_async(v->nfs, v->fh, io->offset + p->off, p->len,
				(char *)io->buf + p->off, part_done, p);
}

static int submit_in_parts(struct nfs_volume *v, struct cb_io *io, uint32_t max)
{
	unsigned n = (io->length + max - 1) / max, i;
	struct split *s = malloc(sizeof *s + (n + 1) * sizeof s->parts[0]);

	if (!s)
		return -1;
	/* One more than the parts: the request outlives the loop below. */
	*s = (struct split){ .v = v, .io = io, .left = 1 };
	for (i = 0; i < n; i++) {
		struct part *p = &s->parts[i];

		*p = (struct part){ .split = s, .off = i * max };
		p->len = io->length - p->off < max ? io->length - p->off : max;
		s->left++;
		if (queue_part(v, io, p) < 0) {
			s->left--;
			s->err = EIO;
			cb_log(CB_LOG_ERROR, "%s: cannot queue a request: %s", v->where,
			       nfs_get_error(v->nfs));
			break;
		}
	}
	s->parts[n] = (struct part){ .split = s };
	part_done(0, v->nfs, NULL, &s->parts[n]);
	return 0;
}

/* Under the loop's lock. */
static void loop_submit(void *ctx, struct cb_io *io)
{
	struct nfs_volume *v = ctx;
	int r;

	io->next = (struct cb_io *)(void *)v;
	switch (io->op) {
	case CB_IO_READ:
		if (v->read_max && io->length > v->read_max)
			r = submit_in_parts(v, io, v->read_max);
		else
			r = nfs_pread_async(v->nfs, v->fh, io->offset, io->length, read_done, io);
		break;
	case CB_IO_WRITE:
		if (v->write_max && io->length > v->write_max)
			r = submit_in_parts(v, io, v->write_max);
		else
			r = nfs_pwrite_async(v->nfs, v->fh, io->offset, io->length, io->buf,
					     write_done, io);
		break;
	case CB_IO_FLUSH:
		r = nfs_fsync_async(v->nfs, v->fh, flush_done, io);
		break;
	default:
		done(v, io, ENOTSUP);
		return;
	}
	if (r < 0) {
		cb_log(CB_LOG_ERROR, "%s: cannot queue a request: %s", v->where,
		       nfs_get_error(v->nfs));
		done(v, io, EIO);
	}
}

static int loop_poll_fds(void *ctx, struct pollfd *p)
{
	struct nfs_volume *v = ctx;

	p->fd = nfs_get_fd(v->nfs);
	p->events = (short)nfs_which_events(v->nfs);
	return p->fd >= 0 && p->events;
}

static void loop_service(void *ctx, struct pollfd *p, int n)
{
	struct nfs_volume *v = ctx;

	if (nfs_service(v->nfs, p->revents) < 0)
		cb_log(CB_LOG_ERROR, "%s: %s", v->where, nfs_get_error(v->nfs));
}

/* libnfs keeps its timeouts and reconnects in nfs_service(). */
static void loop_tick(void *ctx)
{
	nfs_service(((struct nfs_volume *)ctx)->nfs, 0);
}

static void nfs_backend_close(void *handle)
{
	struct nfs_volume *v = handle;

	cb_inflight_drain(&v->inflight);
	cb_event_loop_stop(v->loop);
	if (v->fh)
		nfs_close(v->nfs, v->fh);
	if (v->nfs)
		nfs_destroy_context(v->nfs);
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
	v->read_only = opts->read_only;
	v->nfs = nfs_init_context();
	if (!v->nfs) {
		cb_set_error(ENOMEM, "cannot make an NFS context");
		goto fail;
	}
	/* Like a hard mount: a server that goes away is waited for. */
	nfs_set_autoreconnect(v->nfs, -1);
	if (mount_and_open(v, data) == -1)
		goto fail;
	src.ctx = v;
	v->loop = cb_event_loop_start(&src);
	if (v->loop)
		return v;
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

static const char *const nfs_volume_types[] = { "nfs", NULL };

const struct cb_backend_ops cb_nfs_backend = {
	.name = "nfs",
	.volume_types = nfs_volume_types,
	.open = nfs_backend_open,
	.get_caps = nfs_backend_get_caps,
	.submit = nfs_backend_submit,
	.close = nfs_backend_close,
};
