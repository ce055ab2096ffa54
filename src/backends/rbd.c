/* The RBD backend: a Ceph RBD image through librbd's asynchronous API.
 *
 * Serves Cinder's "rbd" driver_volume_type.  Everything needed to reach
 * the cluster comes from connection_info (monitors, user, pool/image) and a
 * key; no ceph.conf is read, so a stray config on the host cannot redirect
 * or reconfigure the client.  Requests go straight to librbd and complete
 * from its callback threads.
 *
 * One image handle serves every NBD connection, so all of them see one
 * librbd cache: writes acknowledged on one connection are visible to reads
 * on any other, and a flush on any connection covers them all.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backend.h"
#include "lib/error.h"
#include "lib/log.h"

#define RBD_BLOCK_MAX (32u << 20)
/* The OSDs allocate in 4 KiB units; librbd itself needs no alignment. */
#define RBD_BLOCK_PREF 4096u
/* Seconds before a silent cluster turns into an error rather than a hang.
 * Applies to connecting, to monitor commands and to every OSD request. */
#define RBD_TIMEOUT "30"
/* An allocation query lists every object in its range: bound the cost of
 * one NBD_CMD_BLOCK_STATUS (the client asks again for the rest). */
#define RBD_EXTENT_OBJECTS 64
#define KEY_MAX 128
#define KEYRING_FILE_MAX (64u << 10)

struct rbd_volume {
	rados_t cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	bool read_only;
	uint64_t size;
	uint64_t obj_size;

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;
};

/* One request in flight in librbd. */
struct rbd_req {
	struct rbd_volume *v;
	struct cb_io *io;
	bool flush_next;	/* FUA: flush once the write itself is done */
};

/* What connection_info data says about where the image lives. */
struct rbd_target {
	const char *spec;	/* "name" as given, for messages */
	char *name;		/* owns pool, ns and image */
	const char *pool;
	const char *ns;		/* "" for the default namespace */
	const char *image;
	const char *cluster;
	char entity[256];	/* client.<auth_username> */
	bool auth;
	char *mon_host;
	bool read_only;
};

/* Where the key came from, for error messages (never the key itself). */
struct key_source {
	char what[300];
};

/* ---- connection_info ---- */

static int split_name(struct rbd_target *t, const char *name)
{
	char *first, *last;

	t->spec = name;
	t->name = strdup(name);
	if (!t->name) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	first = strchr(t->name, '/');
	last = strrchr(t->name, '/');
	/* Non-empty parts, and at most one '/' between pool and image. */
	if (!first || first == t->name || !last[1] ||
	    (first != last && (last == first + 1 || strchr(first + 1, '/') != last))) {
		cb_set_error(EINVAL, "connection_info \"name\" is \"%s\", not "
			     "\"pool/image\" or \"pool/namespace/image\"", name);
		return -1;
	}
	*first = '\0';
	*last = '\0';
	t->pool = t->name;
	t->ns = first == last ? "" : first + 1;
	t->image = last + 1;
	return 0;
}

/* Cinder sends ports as strings; accept numbers too. */
static int port_text(const json_t *port, char *buf, size_t len)
{
	const char *s = json_string_value(port);
	long long n;
	char *end;

	if (json_is_integer(port)) {
		n = json_integer_value(port);
	} else if (s) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			n = -1;
	} else {
		n = -1;
	}
	if (n <= 0 || n > 65535)
		return -1;
	snprintf(buf, len, "%lld", n);
	return 0;
}

/* Appends "host:port" to out; an IPv6 literal needs brackets first. */
static void append_mon(char *out, const char *host, const char *port)
{
	bool v6 = strchr(host, ':') && host[0] != '[';

	if (*out)
		strcat(out, ",");
	strcat(out, v6 ? "[" : "");
	strcat(out, host);
	strcat(out, v6 ? "]" : "");
	if (port) {
		strcat(out, ":");
		strcat(out, port);
	}
}

/* "h1:p1,h2:p2" from the parallel "hosts" and "ports" lists. */
static int build_mon_host(struct rbd_target *t, const json_t *data)
{
	const json_t *hosts = json_object_get(data, "hosts");
	const json_t *ports = json_object_get(data, "ports");
	size_t i, len = 1;
	const json_t *h;

	if (!json_is_array(hosts) || json_array_size(hosts) == 0) {
		cb_set_error(EINVAL, "connection_info data has no \"hosts\" list: "
			     "the Ceph monitors are needed to reach the cluster");
		return -1;
	}
	json_array_foreach(hosts, i, h) {
		if (!json_string_value(h) || !*json_string_value(h)) {
			cb_set_error(EINVAL, "connection_info \"hosts\"[%zu] is not a host name", i);
			return -1;
		}
		len += strlen(json_string_value(h)) + sizeof "[]:65535,";
	}
	t->mon_host = calloc(1, len);
	if (!t->mon_host) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	json_array_foreach(hosts, i, h) {
		const json_t *p = json_array_get(ports, i);
		char port[8];

		if (p && port_text(p, port, sizeof port) == -1) {
			cb_set_error(EINVAL, "connection_info \"ports\"[%zu] is not a port number", i);
			return -1;
		}
		append_mon(t->mon_host, json_string_value(h), p ? port : NULL);
	}
	return 0;
}

static int parse_target(struct rbd_target *t, const json_t *data,
			const struct cb_open_opts *opts)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	const char *user = json_string_value(json_object_get(data, "auth_username"));
	const char *mode = json_string_value(json_object_get(data, "access_mode"));
	const json_t *auth = json_object_get(data, "auth_enabled");

	if (!name) {
		cb_set_error(EINVAL, "connection_info data has no \"name\" string (pool/image)");
		return -1;
	}
	if (split_name(t, name) == -1 || build_mon_host(t, data) == -1)
		return -1;
	t->cluster = json_string_value(json_object_get(data, "cluster_name"));
	if (!t->cluster || !*t->cluster)
		t->cluster = "ceph";
	/* Cinder always says; if it does not, cephx is the safe guess. */
	t->auth = !json_is_false(auth);
	if (!user || !*user) {
		if (t->auth) {
			cb_set_error(EINVAL, "connection_info data has auth_enabled but "
				     "no \"auth_username\": which Ceph user?");
			return -1;
		}
		user = "admin";		/* librados's own default */
	}
	if (strncmp(user, "client.", 7) == 0)
		user += 7;
	if ((size_t)snprintf(t->entity, sizeof t->entity, "client.%s", user) >= sizeof t->entity) {
		cb_set_error(EINVAL, "connection_info \"auth_username\" is too long");
		return -1;
	}
	t->read_only = opts->read_only || (mode && strcmp(mode, "ro") == 0);
	return 0;
}

static void target_free(struct rbd_target *t)
{
	free(t->name);
	free(t->mon_host);
}

/* ---- keys ---- */

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return end;
}

static bool is_base64(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]))
			return false;
	return len > 0;
}

/* The section header [name] on one line equals entity. */
static bool section_is(const char *s, const char *end, const char *entity)
{
	const char *close = memchr(s, ']', end - s);

	if (!close)
		return false;
	s = skip_blanks(s + 1, close);
	close = trim_end(s, close);
	return (size_t)(close - s) == strlen(entity) && memcmp(s, entity, close - s) == 0;
}

/* "key = VALUE" on one line: copies VALUE into key[KEY_MAX]. */
static bool key_line(const char *s, const char *end, char *key)
{
	size_t len;

	if (end - s < 3 || memcmp(s, "key", 3) != 0)
		return false;
	s = skip_blanks(s + 3, end);
	if (s == end || *s != '=')
		return false;
	s = skip_blanks(s + 1, end);
	len = end - s;
	if (len >= KEY_MAX || !is_base64(s, len))
		return false;
	memcpy(key, s, len);
	key[len] = '\0';
	return true;
}

/* Finds the key of entity in keyring text (Ceph's INI-style format). */
static bool keyring_lookup(const char *text, const char *entity, char *key)
{
	bool in_section = false;

	while (*text) {
		const char *eol = strchrnul(text, '\n');
		const char *s = skip_blanks(text, eol);
		const char *e = trim_end(s, eol);

		if (s < e && *s == '[')
			in_section = section_is(s, e, entity);
		else if (in_section && key_line(s, e, key))
			return true;
		text = *eol ? eol + 1 : eol;
	}
	return false;
}

/* Reads a keyring file: 0 with the key, else -1 with errno set (ENOKEY
 * for a file without entity's key).  Plain read(2), so that no stdio
 * buffer is left holding key material. */
static int keyring_file_lookup(const char *path, const char *entity, char *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	char *text;
	int err = 0;

	if (fd == -1)
		return -1;
	text = malloc(KEYRING_FILE_MAX + 1);
	if (!text) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (n < KEYRING_FILE_MAX) {
		ssize_t r = read(fd, text + n, KEYRING_FILE_MAX - n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r ? errno : 0;
			break;
		}
		n += r;
	}
	close(fd);
	text[n] = '\0';
	if (!err && !keyring_lookup(text, entity, key))
		err = ENOKEY;
	explicit_bzero(text, n);
	free(text);
	errno = err;
	return err ? -1 : 0;
}

static int key_from_file(const char *path, const char *entity, char *key,
			 struct key_source *src)
{
	snprintf(src->what, sizeof src->what, "the keyring file %s", path);
	if (keyring_file_lookup(path, entity, key) == 0)
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
static int find_key(const struct rbd_target *t, const json_t *data,
		    const struct cb_open_opts *opts, char *key, struct key_source *src)
{
	const char *inline_ring = json_string_value(json_object_get(data, "keyring"));
	char path[512];

	if (opts->rbd_keyring)
		return key_from_file(opts->rbd_keyring, t->entity, key, src);
	if (inline_ring && *inline_ring) {
		snprintf(src->what, sizeof src->what, "the keyring in connection_info");
		if (keyring_lookup(inline_ring, t->entity, key))
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
		     "or a keyring file of your own (cinder-brick export --rbd-keyring FILE)",
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
	{ "client_mount_timeout", RBD_TIMEOUT },
	{ "rados_mon_op_timeout", RBD_TIMEOUT },
	{ "rados_osd_op_timeout", RBD_TIMEOUT },
	/* librbd's cache (on, write-around, by default) acknowledges writes
	 * before the OSDs have them; that is NBD's contract as long as FLUSH
	 * and FUA reach rbd_aio_flush, which they do.  A client that never
	 * flushes cannot be protected that way, so it stays write-through
	 * until its first flush shows it knows to. */
	{ "rbd_cache_writethrough_until_flush", "true" },
};

static int conf_set(rados_t cluster, const char *opt, const char *val, bool secret)
{
	int r = rados_conf_set(cluster, opt, val);

	if (r < 0)
		cb_set_error(-r, "cannot set the Ceph client option %s%s%s: %s", opt,
			     secret ? "" : " = ", secret ? "" : val, strerror(-r));
	return r;
}

static int configure(struct rbd_volume *v, const struct rbd_target *t,
		     const json_t *data, const struct cb_open_opts *opts,
		     struct key_source *src)
{
	char key[KEY_MAX];
	int r;

	for (size_t i = 0; i < sizeof client_conf / sizeof client_conf[0]; i++)
		if (conf_set(v->cluster, client_conf[i][0], client_conf[i][1], false) < 0)
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

static void connect_error(int r, const struct rbd_target *t, const struct key_source *src)
{
	switch (r) {
	case -ETIMEDOUT:
		cb_set_error(ETIMEDOUT, "no answer from the Ceph monitors %s of cluster %s "
			     "within %s s", t->mon_host, t->cluster, RBD_TIMEOUT);
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

static int connect_cluster(struct rbd_volume *v, const struct rbd_target *t,
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
		connect_error(r, t, &src);
		return -1;
	}
	return 0;
}

/* what is "pool" or "image"; name is the pool or "pool[/namespace]/image". */
static void open_error(int r, const struct rbd_target *t, const char *what, const char *name)
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

static int open_image(struct rbd_volume *v, const struct rbd_target *t)
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

static void *rbd_backend_open(const json_t *data, const struct cb_open_opts *opts)
{
	struct rbd_target t = { 0 };
	struct rbd_volume *v = NULL;

	if (parse_target(&t, data, opts) == -1)
		goto fail;
	v = calloc(1, sizeof *v);
	if (!v) {
		cb_set_error(ENOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->idle, NULL);
	if (connect_cluster(v, &t, data, opts) == -1 || open_image(v, &t) == -1)
		goto fail;
	target_free(&t);
	return v;
fail:
	if (v)
		volume_free(v);
	target_free(&t);
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

static void req_finish(struct rbd_req *req, int err)
{
	struct rbd_volume *v = req->v;

	req->io->complete(req->io, err);
	free(req);
	pthread_mutex_lock(&v->lock);
	if (--v->inflight == 0)
		pthread_cond_broadcast(&v->idle);
	pthread_mutex_unlock(&v->lock);
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
	pthread_mutex_lock(&v->lock);
	v->inflight++;
	pthread_mutex_unlock(&v->lock);
	r = start_aio(req, io->op);
	if (r < 0)
		req_finish(req, -r);
}

/* ---- allocation map ---- */

struct extent_walk {
	uint64_t pos, end;
	cb_extent_fn fn;
	void *opaque;
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
	if (w->fn(off, end - off, hole, w->opaque)) {
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

static int rbd_backend_extents(void *handle, uint64_t offset, uint64_t length,
			       cb_extent_fn fn, void *opaque)
{
	struct rbd_volume *v = handle;
	uint64_t window = RBD_EXTENT_OBJECTS * v->obj_size;
	struct extent_walk w = { .pos = offset, .fn = fn, .opaque = opaque };
	int r;

	if (length > window)
		length = window;
	w.end = offset + length;
	/* Not whole_object: a partly written object must not read as all data
	 * or all hole.  With the parent: a clone's unwritten range is data. */
	r = rbd_diff_iterate2(v->image, NULL, offset, length, 1, 0, diff_cb, &w);
	if (r < 0 && !w.stopped) {
		cb_set_error(-r, "rbd: cannot map allocated extents: %s", strerror(-r));
		return -1;
	}
	if (!w.stopped)
		report(&w, w.pos, w.end, true);
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

const struct cb_backend_ops cb_rbd_backend = {
	.name = "rbd",
	.volume_types = rbd_volume_types,
	.open = rbd_backend_open,
	.get_caps = rbd_backend_get_caps,
	.submit = rbd_backend_submit,
	.extents = rbd_backend_extents,
	.close = rbd_backend_close,
};
