/* Serving one volume: see export.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/nbd.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "export.h"
#include "exports/fuse_export.h"
#include "exports/kernel_nbd.h"
#include "exports/loop.h"
#include "lib/error.h"
#include "lib/log.h"
#include "nbdserver/server.h"

struct cb_export {
	struct cb_backend *backend;
	struct nbd_server *server;
	struct fuse_export *fuse;
	struct kernel_nbd *kernel;
	bool read_only;
	char nbd_uri[512];
	char nbd_socket[PATH_MAX];
	char device[64];
	/* Descriptors of the server's ends of /dev/nbdN's sockets, kept for
	 * cb_export_abort_plan. */
	int socks[KERNEL_NBD_MAX_CONNECTIONS];
	int nsocks;
};

void cb_export_publish_paths(const struct cb_export *x, const char *file, json_t **last)
{
	json_t *now = cb_backend_paths(x->backend);
	char tmp[PATH_MAX];

	if (!now || (*last && json_equal(now, *last))) {
		json_decref(now);
		return;
	}
	if (snprintf(tmp, sizeof tmp, "%s.new", file) >= (int)sizeof tmp ||
	    json_dump_file(now, tmp, JSON_COMPACT) == -1 || rename(tmp, file) == -1) {
		cb_log(CB_LOG_WARNING, "cannot write %s: %s", file, strerror(errno));
		json_decref(now);
		return;
	}
	json_decref(*last);
	*last = now;
}

bool cb_export_nbd_endpoint_valid(const char *s)
{
	return (strncmp(s, "unix:", 5) == 0 && s[5]) ||
	       (strncmp(s, "tcp:", 4) == 0 && strchr(s + 4, ':'));
}

static int listen_unix(struct cb_export *x, const char *path, const char *name)
{
	snprintf(x->nbd_uri, sizeof x->nbd_uri, "nbd+unix:///%s?socket=%s", name, path);
	snprintf(x->nbd_socket, sizeof x->nbd_socket, "%s", path);
	return nbd_server_listen_unix(x->server, path);
}

static int listen_tcp(struct cb_export *x, const char *hostport, const char *name)
{
	const char *colon = strrchr(hostport, ':');
	char host[256];

	if ((size_t)(colon - hostport) >= sizeof host) {
		cb_set_error(EINVAL, "NBD host name too long: %s", hostport);
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
	snprintf(x->nbd_uri, sizeof x->nbd_uri, "nbd://%s:%s/%s",
		 host[0] ? host : "127.0.0.1", colon + 1, name);
	return nbd_server_listen_tcp(x->server, host[0] ? host : NULL, colon + 1);
}

static int start_server(struct cb_export *x, const struct cb_export_opts *o)
{
	struct nbd_server_config cfg = { .export_name = o->export_name,
					 .read_only = o->read_only };

	x->server = nbd_server_new(x->backend, &cfg);
	return x->server ? 0 : -1;
}

static int start_nbd(struct cb_export *x, const struct cb_export_opts *o)
{
	const char *name = o->export_name ? o->export_name : "";
	int r;

	if (!cb_export_nbd_endpoint_valid(o->nbd)) {
		cb_set_error(EINVAL, "NBD endpoint \"%s\" is not unix:PATH or tcp:HOST:PORT",
			     o->nbd);
		return -1;
	}
	if (start_server(x, o) == -1)
		return -1;
	if (strncmp(o->nbd, "unix:", 5) == 0)
		r = listen_unix(x, o->nbd + 5, name);
	else
		r = listen_tcp(x, o->nbd + 4, name);
	return r == 0 ? nbd_server_start(x->server) : -1;
}

static int default_connections(uint16_t flags)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!(flags & NBD_FLAG_CAN_MULTI_CONN) || cpus < 1)
		return 1;
	return cpus < 4 ? (int)cpus : 4;
}

static int keep_sock(struct cb_export *x, int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (copy == -1) {
		cb_set_error_errno(errno, "cannot keep a socket of /dev/nbdN");
		return -1;
	}
	x->socks[x->nsocks++] = copy;
	return 0;
}

/* Serves n new socketpairs, one end each; the other ends into kernel_ends. */
static int serve_socketpairs(struct cb_export *x, int *kernel_ends, int n)
{
	struct nbd_server_preset preset = {
		.read_only = x->read_only,
		.block_min = x->backend->caps.logical_block_size,
	};
	int i, sv[2];

	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
			cb_set_error_errno(errno, "socketpair");
			return -1;
		}
		if (keep_sock(x, sv[0]) == -1 ||
		    nbd_server_serve_fd(x->server, sv[0], &preset) == -1) {
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		kernel_ends[i] = sv[1];
	}
	return 0;
}

static int hand_to_kernel(struct cb_export *x, const struct cb_kernel_nbd_opts *ko,
			  struct kernel_nbd_params *p)
{
	if (!ko->reattach) {
		x->kernel = kernel_nbd_connect(p, ko->interface);
		return x->kernel ? 0 : -1;
	}
	x->kernel = kernel_nbd_adopt(ko->index);
	if (!x->kernel)
		return -1;
	if (kernel_nbd_reconfigure(x->kernel, p) == 0)
		return 0;
	/* Not ours to disconnect: it may still be another server's. */
	kernel_nbd_free(x->kernel);
	x->kernel = NULL;
	return -1;
}

static int start_kernel_nbd(struct cb_export *x, const struct cb_kernel_nbd_opts *ko)
{
	uint16_t flags = nbd_server_transmission_flags(x->server, x->read_only);
	int socks[KERNEL_NBD_MAX_CONNECTIONS], i, r;
	struct kernel_nbd_params p = {
		.index = ko->index, .size = x->backend->caps.size,
		.block_size = x->backend->caps.logical_block_size, .flags = flags,
		.io_timeout = ko->io_timeout ? ko->io_timeout : CB_NBD_DEFAULT_IO_TIMEOUT,
		.dead_conn_timeout = ko->dead_conn_timeout ? ko->dead_conn_timeout :
				     CB_NBD_DEFAULT_DEAD_CONN_TIMEOUT,
		.identifier = ko->identifier, .socks = socks,
		.nsocks = ko->connections ? ko->connections : default_connections(flags),
	};

	if (p.nsocks > KERNEL_NBD_MAX_CONNECTIONS) {
		cb_set_error(EINVAL, "%d connections: at most %d", p.nsocks,
			     KERNEL_NBD_MAX_CONNECTIONS);
		return -1;
	}
	if (p.block_size < 512)
		p.block_size = 512;
	if (serve_socketpairs(x, socks, p.nsocks) == -1)
		return -1;
	r = hand_to_kernel(x, ko, &p);
	/* The kernel holds its own references to the sockets it took. */
	for (i = 0; i < p.nsocks; i++)
		close(socks[i]);
	return r;
}

static int start_fuse(struct cb_export *x, const struct cb_export_opts *o)
{
	x->fuse = fuse_export_start(x->backend, o->fuse, o->read_only);
	if (!x->fuse)
		return -1;
	if (!o->loop)
		return 0;
	return loop_attach(fuse_export_file(x->fuse), o->read_only,
			   x->backend->caps.logical_block_size, x->device, sizeof x->device);
}

static int open_backend(struct cb_export *x, const struct cb_export_opts *o)
{
	struct cb_open_opts oo = {
		.read_only = o->read_only, .direct_io = o->direct_io,
		.multipath = o->multipath, .enforce_multipath = o->enforce_multipath,
		.durable_writes = o->kernel_nbd != NULL,
		.options = o->backend_options,
	};
	json_t *ci = cb_connection_info_normalize(o->connection_info);

	if (!ci)
		return -1;
	x->backend = cb_backend_open(ci, &oo);
	json_decref(ci);
	return x->backend ? 0 : -1;
}

struct cb_export *cb_export_start(const struct cb_export_opts *o)
{
	struct cb_export *x = calloc(1, sizeof *x);

	if (!x) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	x->read_only = o->read_only;
	if (open_backend(x, o) == -1 || (o->nbd && start_nbd(x, o) == -1) ||
	    (o->fuse && start_fuse(x, o) == -1) ||
	    (o->kernel_nbd && ((!x->server && start_server(x, o) == -1) ||
			       start_kernel_nbd(x, o->kernel_nbd) == -1))) {
		char err[1024];
		int errnum = cb_get_errno();

		/* Stopping must not replace the reason we stop. */
		snprintf(err, sizeof err, "%s", cb_get_error());
		cb_export_stop(x);
		cb_set_error(errnum, "%s", err);
		return NULL;
	}
	return x;
}

const char *cb_export_nbd_uri(const struct cb_export *x)
{
	return x->nbd_uri[0] ? x->nbd_uri : NULL;
}

const char *cb_export_fuse_file(const struct cb_export *x)
{
	return x->fuse ? fuse_export_file(x->fuse) : NULL;
}

const char *cb_export_device(const struct cb_export *x)
{
	if (x->kernel)
		return kernel_nbd_device(x->kernel);
	return x->device[0] ? x->device : NULL;
}

bool cb_export_device_is_nbd(const struct cb_export *x)
{
	return x->kernel != NULL;
}

int cb_export_grow(struct cb_export *x, uint64_t *size)
{
	if (cb_backend_grow(x->backend, size) == -1)
		return -1;
	if (x->server)
		nbd_server_grow(x->server, *size);
	if (x->fuse && fuse_export_grow(x->fuse) == -1)
		return -1;
	if (x->device[0] && loop_set_capacity(x->device) == -1)
		return -1;
	return x->kernel ? kernel_nbd_resize(x->kernel, *size) : 0;
}

int cb_export_release_device(struct cb_export *x)
{
	if (x->kernel && kernel_nbd_disconnect(x->kernel, true) == -1)
		return -1;
	kernel_nbd_free(x->kernel);
	x->kernel = NULL;
	if (x->device[0] && loop_detach(x->device) == -1)
		return -1;
	x->device[0] = '\0';
	return 0;
}

static int final_flush(struct cb_export *x)
{
	int err;

	if (!x->backend || x->read_only || !x->backend->caps.can_flush)
		return 0;
	err = cb_backend_io_sync(x->backend, CB_IO_FLUSH, 0, 0, 0, NULL);
	if (err)
		cb_set_error(err, "the final flush of the volume failed: %s", strerror(err));
	return err ? -1 : 0;
}

int cb_export_stop(struct cb_export *x)
{
	char err[1024] = "";
	int errnum = 0;

	if (!x)
		return 0;
	if (cb_export_release_device(x) == -1) {
		errnum = cb_get_errno();
		snprintf(err, sizeof err, "%s", cb_get_error());
	}
	fuse_export_stop(x->fuse);
	nbd_server_free(x->server);
	if (final_flush(x) == -1 && !errnum) {
		errnum = cb_get_errno();
		snprintf(err, sizeof err, "%s", cb_get_error());
	}
	cb_backend_close(x->backend);
	for (int i = 0; i < x->nsocks; i++)
		close(x->socks[i]);
	free(x);
	if (errnum)
		cb_set_error(errnum, "%s", err);
	return errnum ? -1 : 0;
}

int cb_export_abort_plan(const struct cb_export *x, struct cb_export_abort_plan *p)
{
	*p = (struct cb_export_abort_plan){ .nbd_index = -1 };
	if (x->fuse)
		snprintf(p->fuse_mountpoint, sizeof p->fuse_mountpoint, "%s",
			 fuse_export_mountpoint(x->fuse));
	snprintf(p->nbd_socket, sizeof p->nbd_socket, "%s", x->nbd_socket);
	if (x->kernel) {
		p->nbd_index = kernel_nbd_index(x->kernel);
		p->nbd_interface = kernel_nbd_interface(x->kernel);
	}
	for (p->nsocks = 0; p->nsocks < x->nsocks; p->nsocks++) {
		p->socks[p->nsocks] = fcntl(x->socks[p->nsocks], F_DUPFD_CLOEXEC, 0);
		if (p->socks[p->nsocks] == -1) {
			cb_set_error_errno(errno, "cannot keep a socket of %s", cb_export_device(x));
			cb_export_abort_plan_clear(p);
			return -1;
		}
	}
	return 0;
}

void cb_export_abort_plan_clear(struct cb_export_abort_plan *p)
{
	for (int i = 0; i < p->nsocks; i++)
		close(p->socks[i]);
	p->nsocks = 0;
}

/* MNT_FORCE has the kernel abort the FUSE connection: every request still
 * waiting for an answer fails, the loop device's I/O on the file with it,
 * so that its detach can go on.  The mount is busy while the loop device
 * holds the file: it is detached from the tree, and goes with the last
 * reference.  Root only: for a user's mount (fusermount3, auto_unmount)
 * the process's exit does both. */
static void abort_fuse(const char *mountpoint)
{
	if (umount2(mountpoint, MNT_FORCE) == 0 || errno == EPERM)
		return;
	if (umount2(mountpoint, MNT_DETACH) == -1 && errno != EINVAL)
		cb_log(CB_LOG_WARNING, "cannot unmount %s: %s", mountpoint, strerror(errno));
}

void cb_export_abort(const struct cb_export_abort_plan *p)
{
	for (int i = 0; i < p->nsocks; i++)
		shutdown(p->socks[i], SHUT_RDWR);
	if (p->nbd_index >= 0)
		kernel_nbd_abort(p->nbd_index, p->nbd_interface);
	if (p->fuse_mountpoint[0])
		abort_fuse(p->fuse_mountpoint);
	if (p->nbd_socket[0])
		unlink(p->nbd_socket);
}
