/* Serving one volume: see export.h. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "export.h"
#include "exports/fuse_export.h"
#include "exports/loop.h"
#include "lib/error.h"
#include "nbdserver/server.h"

struct cb_export {
	struct cb_backend *backend;
	struct nbd_server *server;
	struct fuse_export *fuse;
	bool read_only;
	char nbd_uri[512];
	char device[64];
};

bool cb_export_nbd_endpoint_valid(const char *s)
{
	return (strncmp(s, "unix:", 5) == 0 && s[5]) ||
	       (strncmp(s, "tcp:", 4) == 0 && strchr(s + 4, ':'));
}

static int listen_unix(struct cb_export *x, const char *path, const char *name)
{
	snprintf(x->nbd_uri, sizeof x->nbd_uri, "nbd+unix:///%s?socket=%s", name, path);
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

static int start_nbd(struct cb_export *x, const struct cb_export_opts *o)
{
	const char *name = o->export_name ? o->export_name : "";
	struct nbd_server_config cfg = { .export_name = o->export_name,
					 .read_only = o->read_only };
	int r;

	if (!cb_export_nbd_endpoint_valid(o->nbd)) {
		cb_set_error(EINVAL, "NBD endpoint \"%s\" is not unix:PATH or tcp:HOST:PORT",
			     o->nbd);
		return -1;
	}
	x->server = nbd_server_new(x->backend, &cfg);
	if (!x->server)
		return -1;
	if (strncmp(o->nbd, "unix:", 5) == 0)
		r = listen_unix(x, o->nbd + 5, name);
	else
		r = listen_tcp(x, o->nbd + 4, name);
	return r == 0 ? nbd_server_start(x->server) : -1;
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
	    (o->fuse && start_fuse(x, o) == -1)) {
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
	return x->server ? x->nbd_uri : NULL;
}

const char *cb_export_fuse_file(const struct cb_export *x)
{
	return x->fuse ? fuse_export_file(x->fuse) : NULL;
}

const char *cb_export_device(const struct cb_export *x)
{
	return x->device[0] ? x->device : NULL;
}

int cb_export_release_device(struct cb_export *x)
{
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
	free(x);
	if (errnum)
		cb_set_error(errnum, "%s", err);
	return errnum ? -1 : 0;
}
