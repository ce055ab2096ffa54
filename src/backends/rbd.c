/* The RBD backend: a Ceph RBD image through librbd's asynchronous API.
 *
 * Serves Cinder's "rbd" driver_volume_type.  Everything needed to reach
 * the cluster comes from connection_info (monitors, user, pool/image) and a
 * key (parsed by ceph_config.c); no ceph.conf is read, so a stray config on
 * the host cannot redirect or reconfigure the client.  Requests go straight
 * to librbd and complete from its callback threads; allocation maps, which
 * librbd only walks synchronously, run on a few threads of our own.
 *
 * One image handle serves every NBD connection, so all of them see one
 * librbd cache: writes acknowledged on one connection are visible to reads
 * on any other, and a flush on any connection covers them all.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backend.h"
#include "ceph_config.h"
#include "io_pool.h"
#include "lib/error.h"
#include "lib/log.h"

#define RBD_BLOCK_MAX (32u << 20)
/* The OSDs allocate in 4 KiB units; librbd itself needs no alignment. */
#define RBD_BLOCK_PREF 4096u
/* Seconds before a silent cluster turns into an error rather than a hang
 * (rbd.io_timeout): connecting, monitor commands and every OSD request.
 * Above the 20 s (osd_heartbeat_grace) a cluster takes by default to mark
 * a dead OSD down, after which its requests go to another; below the
 * kernel NBD I/O timeout (CB_NBD_DEFAULT_IO_TIMEOUT), which must not give
 * up on a connection first.  A stop never waits for it (--stop-grace). */
#define RBD_IO_TIMEOUT_DEFAULT_S 30
#define RBD_IO_TIMEOUT_MAX_S 86400
/* An allocation query lists every object in its range: bound the cost of
 * one NBD_CMD_BLOCK_STATUS (the client asks again for the rest). */
#define RBD_EXTENT_OBJECTS 64
/* Threads for allocation queries, which librbd only answers synchronously:
 * enough for a few clients mapping at once. */
#define RBD_EXTENT_THREADS 4
/* Room for the names of the keyring files tried, in messages. */
#define KEYRING_PATH_MAX 512

struct rbd_volume {
	rados_t cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	bool read_only;
	uint64_t size;
	uint64_t obj_size;
	unsigned io_timeout;	/* seconds */

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;	/* requests not yet completed, extents included */
	struct io_pool *extent_pool;
};

/* One request in flight in librbd. */
struct rbd_req {
	struct rbd_volume *v;
	struct cb_io *io;
	bool flush_next;	/* FUA: flush once the write itself is done */
};

/* Where the key came from, for error messages (never the key itself). */
struct key_source {
	char what[sizeof "the keyring file " + KEYRING_PATH_MAX];
};

/* ---- keys ---- */

static int key_from_file(const char *path, const char *entity, char *key,
			 struct key_source *src)
{
	snprintf(src->what, sizeof src->what, "the keyring file %s", path);
	if (cb_ceph_keyring_file_lookup(path, entity, key) == 0)
		return 0;
	if (errno == ENOKEY)
		cb_set_error(ENOKEY, "%s has no key for %s", path, entity);
	else
		cb_set_error_errno(errno, "cannot read the keyring file %s", path);
	return -1;
}

/* The key, in this order: a keyring file the caller names (an explicit
 * choice beats anything implicit), the keyring text Cinder sends, then the
 * host's /etc/ceph/<cluster>.<entity>.keyring as os-brick looks for it. */
static int find_key(const struct cb_ceph_target *t, const json_t *data,
		    const struct cb_open_opts *opts, char *key, struct key_source *src)
{
	const char *inline_ring = json_string_value(json_object_get(data, "keyring"));
	const char *keyring = cb_backend_option(opts, &cb_rbd_backend, "keyring");
	char path[KEYRING_PATH_MAX];

	if (keyring)
		return key_from_file(keyring, t->entity, key, src);
	if (inline_ring && *inline_ring) {
		snprintf(src->what, sizeof src->what, "the keyring in connection_info");
		if (cb_ceph_keyring_lookup(inline_ring, t->entity, key))
			return 0;
		cb_set_error(ENOKEY, "the \"keyring\" in connection_info has no key for %s",
			     t->entity);
		return -1;
	}
	snprintf(path, sizeof path, "/etc/ceph/%s.%s.keyring", t->cluster, t->entity);
	if (access(path, F_OK) == 0)
		return key_from_file(path, t->entity, key, src);
	cb_set_error(ENOKEY, "no Ceph key for %s: connection_info has no \"keyring\", "
		     "%s does not exist, and no keyring file was given. Provide one of: "
		     "the \"keyring\" field in connection_info data, the file %s, "
		     "or a keyring file of your own (the backend option rbd.keyring, as in "
		     "cinder-brick export --rbd-keyring FILE)",
		     t->entity, path, path);
	return -1;
}

/* ---- cluster and image ---- */

/* Fixed client settings; everything else is librbd's default or whatever
 * the cluster's central config (ceph config set client ...) says. */
static const char *const client_conf[][2] = {
	/* Library code never prints; librados logs to nowhere by default
	 * but say so, since no ceph.conf will. */
	{ "log_to_stderr", "false" },
	{ "err_to_stderr", "false" },
	{ "log_file", "" },
	/* Only the key chosen by find_key, never a keyring found by searching. */
	{ "keyring", "" },
	/* librbd's cache (on, write-around, by default) acknowledges writes
	 * once they are sent to the OSDs, up to rbd_cache_max_dirty bytes
	 * in flight; FLUSH and FUA wait for them (rbd_aio_flush).  That is
	 * the volatile write cache NBD_FLAG_SEND_FLUSH declares, so every
	 * client has been told to flush, and the kernel's nbd driver makes
	 * the device write-back for it.  librbd's default would keep the
	 * cache write-through until the first flush: with a client that
	 * never flushes (fio) only its own queue depth of writes reached
	 * the OSD at a time (32 in flight, against 190-256 for fio's rbd
	 * engine, whose start-up counts as a flush), and the OSD spent
	 * 1.4 to 2.9 times the CPU on each write for lack of batching:
	 * 0.35x the 4k random writes of librbd driven directly. */
	{ "rbd_cache_writethrough_until_flush", "false" },
};

static int conf_set(rados_t cluster, const char *opt, const char *val, bool secret)
{
	int r = rados_conf_set(cluster, opt, val);

	if (r < 0)
		cb_set_error(-r, "cannot set the Ceph client option %s%s%s: %s", opt,
			     secret ? "" : " = ", secret ? "" : val, strerror(-r));
	return r;
}

/* rbd.io_timeout, for each of the client's waits on the cluster. */
static int configure_timeouts(struct rbd_volume *v)
{
	static const char *const waits[] = {
		"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout",
	};
	char val[16];

	snprintf(val, sizeof val, "%u", v->io_timeout);
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
		if (conf_set(v->cluster, waits[i], val, false) < 0)
			return -1;
	return 0;
}

/* Write-around still acknowledges before the OSDs have the data: no cache.
 * Without one, librbd can send a write from the caller's buffer instead
 * of a copy (its cache forces the copy), holding back the completion until
 * it has let go of the buffer, which is never reused before then: a
 * quarter less CPU per 1 MiB write in the serving process. */
static int configure_durable_writes(struct rbd_volume *v)
{
	if (conf_set(v->cluster, "rbd_cache", "false", false) < 0)
		return -1;
	return conf_set(v->cluster, "rbd_disable_zero_copy_writes", "false", false);
}

static int configure(struct rbd_volume *v, const struct cb_ceph_target *t,
		     const json_t *data, const struct cb_open_opts *opts,
		     struct key_source *src)
{
	char key[CB_CEPH_KEY_MAX];
	int r;

	for (size_t i = 0; i < sizeof client_conf / sizeof client_conf[0]; i++)
		if (conf_set(v->cluster, client_conf[i][0], client_conf[i][1], false) < 0)
			return -1;
	if (configure_timeouts(v) < 0)
		return -1;
	if (opts->durable_writes && configure_durable_writes(v) < 0)
		return -1;
	if (conf_set(v->cluster, "mon_host", t->mon_host, false) < 0)
		return -1;
	if (!t->auth) {
		snprintf(src->what, sizeof src->what, "no key (auth_enabled is false)");
		return conf_set(v->cluster, "auth_client_required", "none", false) < 0 ? -1 : 0;
	}
	if (find_key(t, data, opts, key, src) == -1)
		return -1;
	/* Straight into librados: the key never touches a file. */
	r = conf_set(v->cluster, "key", key, true);
	explicit_bzero(key, sizeof key);
	return r < 0 ? -1 : 0;
}

static void connect_error(const struct rbd_volume *v, int r, const struct cb_ceph_target *t,
			  const struct key_source *src)
{
	switch (r) {
	case -ETIMEDOUT:
		cb_set_error(ETIMEDOUT, "no answer from the Ceph monitors %s of cluster %s "
			     "within %u s (rbd.io_timeout)", t->mon_host, t->cluster,
			     v->io_timeout);
		break;
	case -EACCES:
	case -EPERM:
		cb_set_error(EACCES, "the Ceph monitors %s refused %s with the key from %s: "
			     "wrong key or unknown user", t->mon_host, t->entity, src->what);
		break;
	default:
		cb_set_error(-r, "cannot connect to the Ceph monitors %s as %s: %s",
			     t->mon_host, t->entity, strerror(-r));
	}
}

static int connect_cluster(struct rbd_volume *v, const struct cb_ceph_target *t,
			   const json_t *data, const struct cb_open_opts *opts)
{
	struct key_source src = { "" };
	int r;

	r = rados_create2(&v->cluster, t->cluster, t->entity, 0);
	if (r < 0) {
		v->cluster = NULL;
		cb_set_error(-r, "cannot create a Ceph client for %s: %s", t->entity, strerror(-r));
		return -1;
	}
	if (configure(v, t, data, opts, &src) == -1)
		return -1;
	r = rados_connect(v->cluster);
	if (r < 0) {
		connect_error(v, r, t, &src);
		return -1;
	}
	return 0;
}

/* what is "pool" or "image"; name is the pool or "pool[/namespace]/image". */
static void open_error(int r, const struct cb_ceph_target *t, const char *what, const char *name)
{
	switch (r) {
	case -ENOENT:
		cb_set_error(ENOENT, "the Ceph %s %s does not exist", what, name);
		break;
	case -EACCES:
	case -EPERM:
		cb_set_error(EACCES, "%s may not open the Ceph %s %s (check its caps)",
			     t->entity, what, name);
		break;
	default:
		cb_set_error(-r, "cannot open the Ceph %s %s: %s", what, name, strerror(-r));
	}
}

static int open_image(struct rbd_volume *v, const struct cb_ceph_target *t)
{
	rbd_image_info_t info;
	int r;

	r = rados_ioctx_create(v->cluster, t->pool, &v->ioctx);
	if (r < 0) {
		v->ioctx = NULL;
		open_error(r, t, "pool", t->pool);
		return -1;
	}
	rados_ioctx_set_namespace(v->ioctx, t->ns);
	if (t->read_only)
		r = rbd_open_read_only(v->ioctx, t->image, &v->image, NULL);
	else
		r = rbd_open(v->ioctx, t->image, &v->image, NULL);
	if (r < 0) {
		v->image = NULL;
		open_error(r, t, "image", t->spec);
		return -1;
	}
	r = rbd_stat(v->image, &info, sizeof info);
	if (r < 0) {
		cb_set_error(-r, "cannot stat the Ceph image %s: %s", t->spec, strerror(-r));
		return -1;
	}
	v->size = info.size;
	v->obj_size = info.obj_size;
	v->read_only = t->read_only;
	return 0;
}

static void volume_free(struct rbd_volume *v)
{
	int r;

	io_pool_free(v->extent_pool);	/* its threads use the image */
	if (v->image) {
		/* Writes back whatever the cache still holds. */
		r = rbd_close(v->image);
		if (r < 0)
			cb_log(CB_LOG_ERROR, "rbd: closing the image failed: %s", strerror(-r));
	}
	if (v->ioctx)
		rados_ioctx_destroy(v->ioctx);
	if (v->cluster)
		rados_shutdown(v->cluster);
	pthread_cond_destroy(&v->idle);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static void run_extents(void *ctx, struct cb_io *io);

/* What the settings above come to, as librados reads them back. */
static void log_write_acks(struct rbd_volume *v, const struct cb_ceph_target *t)
{
	char cache[16] = "", no_zero_copy[16] = "";

	rados_conf_get(v->cluster, "rbd_cache", cache, sizeof cache);
	rados_conf_get(v->cluster, "rbd_disable_zero_copy_writes", no_zero_copy,
		       sizeof no_zero_copy);
	if (strcmp(cache, "false"))
		cb_log(CB_LOG_INFO, "rbd: %s: writes are acknowledged from librbd's cache, "
		       "durable after FLUSH or FUA", t->spec);
	else
		cb_log(CB_LOG_INFO, "rbd: %s: writes are acknowledged once the OSDs have them "
		       "(librbd's cache off; %s)", t->spec,
		       strcmp(no_zero_copy, "false") ? "copied" : "sent from the request's buffer");
}

static void *rbd_backend_open(const json_t *data, const struct cb_open_opts *opts)
{
	struct cb_ceph_target t = { 0 };
	struct rbd_volume *v = NULL;

	if (cb_ceph_target_parse(&t, data) == -1)
		goto fail;
	t.read_only = t.read_only || opts->read_only;
	v = calloc(1, sizeof *v);
	if (!v) {
		cb_set_error(ENOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->idle, NULL);
	if (cb_backend_option_seconds(opts, &cb_rbd_backend, "io_timeout",
				      RBD_IO_TIMEOUT_DEFAULT_S, RBD_IO_TIMEOUT_MAX_S,
				      &v->io_timeout) == -1 ||
	    connect_cluster(v, &t, data, opts) == -1 || open_image(v, &t) == -1)
		goto fail;
	v->extent_pool = io_pool_new(RBD_EXTENT_THREADS, run_extents, v);
	if (!v->extent_pool)
		goto fail;
	log_write_acks(v, &t);
	cb_ceph_target_free(&t);
	return v;
fail:
	if (v)
		volume_free(v);
	cb_ceph_target_free(&t);
	return NULL;
}

static void rbd_backend_close(void *handle)
{
	struct rbd_volume *v = handle;

	pthread_mutex_lock(&v->lock);
	while (v->inflight)
		pthread_cond_wait(&v->idle, &v->lock);
	pthread_mutex_unlock(&v->lock);
	volume_free(v);
}

/* ---- I/O ---- */

static void inflight_start(struct rbd_volume *v)
{
	pthread_mutex_lock(&v->lock);
	v->inflight++;
	pthread_mutex_unlock(&v->lock);
}

static void inflight_done(struct rbd_volume *v)
{
	pthread_mutex_lock(&v->lock);
	if (--v->inflight == 0)
		pthread_cond_broadcast(&v->idle);
	pthread_mutex_unlock(&v->lock);
}

static void req_finish(struct rbd_req *req, int err)
{
	struct rbd_volume *v = req->v;

	req->io->complete(req->io, err);
	free(req);
	inflight_done(v);
}

static void aio_done(rbd_completion_t c, void *arg);

/* Hands one operation to librbd; a negative errno if it would not take it. */
static int start_aio(struct rbd_req *req, enum cb_io_op op)
{
	struct cb_io *io = req->io;
	rbd_image_t img = req->v->image;
	/* Lets the write bypass the write-around cache, so that the flush
	 * that follows it has nothing of its own to wait for. */
	int fua = io->flags & CB_IO_FUA ? LIBRADOS_OP_FLAG_FADVISE_FUA : 0;
	/* Without MAY_TRIM the client wants the range to stay allocated. */
	int zero = io->flags & CB_IO_MAY_TRIM ? 0 : RBD_WRITE_ZEROES_FLAG_THICK_PROVISION;
	rbd_completion_t c;
	int r;

	r = rbd_aio_create_completion(req, aio_done, &c);
	if (r < 0)
		return r;
	switch (op) {
	case CB_IO_READ:
		r = rbd_aio_read2(img, io->offset, io->length, io->buf, c, 0);
		break;
	case CB_IO_WRITE:
		r = rbd_aio_write2(img, io->offset, io->length, io->buf, c, fua);
		break;
	case CB_IO_FLUSH:
		r = rbd_aio_flush(img, c);
		break;
	case CB_IO_TRIM:
		r = rbd_aio_discard(img, io->offset, io->length, c);
		break;
	case CB_IO_WRITE_ZEROES:
		r = rbd_aio_write_zeroes(img, io->offset, io->length, c, zero, fua);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		rbd_aio_release(c);
	return r;
}

/* Runs on a librbd thread. */
static void aio_done(rbd_completion_t c, void *arg)
{
	struct rbd_req *req = arg;
	ssize_t r = rbd_aio_get_return_value(c);

	rbd_aio_release(c);
	if (r >= 0 && req->flush_next) {
		req->flush_next = false;
		r = start_aio(req, CB_IO_FLUSH);
		if (r == 0)
			return;
	}
	req_finish(req, r < 0 ? (int)-r : 0);
}

static void rbd_backend_submit(void *handle, struct cb_io *io)
{
	struct rbd_volume *v = handle;
	struct rbd_req *req;
	int r;

	if (io->op == CB_IO_EXTENTS) {
		inflight_start(v);
		io_pool_push(v->extent_pool, io);
		return;
	}
	/* Zeroing that must stay allocated writes real zeroes: not fast. */
	if (io->op == CB_IO_WRITE_ZEROES && (io->flags & CB_IO_FAST_ZERO) &&
	    !(io->flags & CB_IO_MAY_TRIM)) {
		io->complete(io, ENOTSUP);
		return;
	}
	req = malloc(sizeof *req);
	if (!req) {
		io->complete(io, ENOMEM);
		return;
	}
	/* Only the write-around cache promises to honour FADVISE_FUA, and the
	 * cache mode is the cluster's to choose: FUA is the write, then a flush. */
	*req = (struct rbd_req){
		.v = v,
		.io = io,
		.flush_next = (io->flags & CB_IO_FUA) && io->op != CB_IO_READ &&
			      io->op != CB_IO_FLUSH,
	};
	inflight_start(v);
	r = start_aio(req, io->op);
	if (r < 0)
		req_finish(req, -r);
}

/* ---- allocation map ---- */

struct extent_walk {
	struct cb_io *io;
	uint64_t pos, end;
	bool stopped;
};

static int report(struct extent_walk *w, uint64_t off, uint64_t end, bool hole)
{
	if (off < w->pos)
		off = w->pos;
	if (end > w->end)
		end = w->end;
	if (off >= end)
		return 0;
	w->pos = end;
	if (w->io->extent(w->io, off, end - off, hole)) {
		w->stopped = true;
		return -ECANCELED;
	}
	return 0;
}

/* librbd reports the allocated extents in order; the gaps are holes. */
static int diff_cb(uint64_t off, size_t len, int exists, void *arg)
{
	struct extent_walk *w = arg;
	int r = report(w, w->pos, off, true);

	return r ? r : report(w, off, off + len, !exists);
}

/* 0 or an errno value. */
static int map_extents(struct rbd_volume *v, struct cb_io *io)
{
	uint64_t window = RBD_EXTENT_OBJECTS * v->obj_size;
	uint64_t length = io->length < window ? io->length : window;
	struct extent_walk w = { .io = io, .pos = io->offset, .end = io->offset + length };
	int r;

	/* Not whole_object: a partly written object must not read as all data
	 * or all hole.  With the parent: a clone's unwritten range is data. */
	r = rbd_diff_iterate2(v->image, NULL, io->offset, length, 1, 0, diff_cb, &w);
	if (r < 0 && !w.stopped)
		return -r;
	if (!w.stopped)
		report(&w, w.pos, w.end, true);
	return 0;
}

/* On an extent_pool thread: librbd's diff walk has no asynchronous form
 * (librbd 16), and it waits for the OSDs. */
static void run_extents(void *ctx, struct cb_io *io)
{
	struct rbd_volume *v = ctx;

	io->complete(io, map_extents(v, io));
	inflight_done(v);
}

/* librbd re-reads the image header when a resize was announced on it. */
static int rbd_backend_current_size(void *handle, uint64_t *size)
{
	struct rbd_volume *v = handle;
	int r = rbd_get_size(v->image, size);

	if (r < 0) {
		cb_set_error(-r, "cannot get the Ceph image's size: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static void rbd_backend_get_caps(void *handle, struct cb_backend_caps *caps)
{
	struct rbd_volume *v = handle;

	*caps = (struct cb_backend_caps){
		.size = v->size,
		.block_min = 1,
		.block_pref = RBD_BLOCK_PREF,
		.block_max = RBD_BLOCK_MAX,
		.logical_block_size = 512,	/* as rbd map and rbd-nbd give it */
		.read_only = v->read_only,
		.can_flush = true,
		.can_fua = true,
		.can_trim = true,
		.can_zero = true,
		/* Zeroing that may deallocate never carries data: the OSDs
		 * remove, truncate or zero objects themselves, which is never
		 * slower than writing zeroes (a clone's copy-up costs both the
		 * same).  Zeroing that must stay allocated is refused. */
		.can_fast_zero = true,
		.can_extents = true,
		/* One image handle, one cache, for every connection. */
		.multi_conn = true,
	};
}

static const char *const rbd_volume_types[] = { "rbd", NULL };

static const struct cb_backend_option rbd_options[] = {
	{ .name = "keyring", .path = true,
	  .help = "a Ceph keyring file holding the user's key" },
	{ .name = "io_timeout",
	  .help = "seconds a request waits for the cluster before it fails (default 30)" },
	{ .name = NULL },
};

const struct cb_backend_ops cb_rbd_backend = {
	.name = "rbd",
	.volume_types = rbd_volume_types,
	.options = rbd_options,
	.open = rbd_backend_open,
	.get_caps = rbd_backend_get_caps,
	.submit = rbd_backend_submit,
	.current_size = rbd_backend_current_size,
	.close = rbd_backend_close,
};
