/* An NBD server for one backend: listens on Unix and TCP sockets and
 * serves any number of clients, each on its own thread, with many requests
 * in flight per client.  It knows nothing of Cinder.
 */
#ifndef CB_NBD_SERVER_H
#define CB_NBD_SERVER_H

#include <stdbool.h>

#include "backends/backend.h"

struct nbd_server_config {
	const char *export_name;	/* NULL: any name is accepted */
	const char *description;	/* NULL: none */
	bool read_only;
};

struct nbd_server;

/* The backend stays owned by the caller and must outlive the server. */
struct nbd_server *nbd_server_new(struct cb_backend *backend,
				  const struct nbd_server_config *cfg);
/* Listen on a Unix socket; an existing socket file at path is replaced. */
int nbd_server_listen_unix(struct nbd_server *s, const char *path);
/* Listen on TCP; host NULL means 127.0.0.1. */
int nbd_server_listen_tcp(struct nbd_server *s, const char *host, const char *port);
/* Start accepting clients on a background thread. */
int nbd_server_start(struct nbd_server *s);
/* Stop accepting, disconnect every client once its in-flight requests
 * have completed, and wait for that.  Idempotent. */
void nbd_server_stop(struct nbd_server *s);
void nbd_server_free(struct nbd_server *s);

#endif
