/* An NBD server for one backend: listens on Unix and TCP sockets and
 * serves any number of clients, each on its own thread, with many requests
 * in flight per client.  It can also serve a descriptor whose handshake
 * happened elsewhere (the kernel's NBD client).  It knows nothing of Cinder.
 */
#ifndef CB_NBD_SERVER_H
#define CB_NBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

/* The longest export name there is: the protocol's limit on strings. */
#define NBD_SERVER_MAX_NAME 4096

struct nbd_server_config {
	const char *export_name;	/* NULL: any name is accepted */
	const char *description;	/* NULL: none */
	bool read_only;
};

/* What a client that skipped the handshake was told out of band, as the
 * kernel's NBD client is by ioctl or netlink.  Such a client gets simple
 * replies only, as the kernel expects. */
struct nbd_server_preset {
	bool read_only;		/* NBD_FLAG_READ_ONLY: writes get EPERM */
	/* Offsets and lengths must be multiples of this: a power of two, a
	 * multiple of the backend's own minimum, at most 64 KiB; 0 takes the
	 * backend's. */
	uint32_t block_min;
	/* The largest READ or WRITE payload accepted, at most
	 * NBD_SERVER_MAX_PAYLOAD; 0 means that maximum, as for a client that
	 * negotiated no block size. */
	uint32_t block_max;
};

/* The largest READ or WRITE payload served to a client that negotiated no
 * block size; the maximum advertised to those that do is 32 MiB or less. */
#define NBD_SERVER_MAX_PAYLOAD (64u << 20)

struct nbd_server;

/* The backend stays owned by the caller and must outlive the server.
 * NULL with the error set when the configuration is invalid. */
struct nbd_server *nbd_server_new(struct cb_backend *backend,
				  const struct nbd_server_config *cfg);
/* Listen on a Unix socket; an existing socket file at path is replaced. */
int nbd_server_listen_unix(struct nbd_server *s, const char *path);
/* Listen on TCP; host NULL means 127.0.0.1. */
int nbd_server_listen_tcp(struct nbd_server *s, const char *host, const char *port);
/* Start accepting clients on a background thread. */
int nbd_server_start(struct nbd_server *s);

/* The transmission flags (NBD_FLAG_*) to tell a client served through
 * nbd_server_serve_fd() with this read_only: the commands it will accept.
 * The export's size is the backend's caps.size. */
uint16_t nbd_server_transmission_flags(const struct nbd_server *s, bool read_only);
/* Serves fd, a connected stream socket already in the transmission phase,
 * on a thread of its own, as negotiated by preset.  Needs no listener
 * and no nbd_server_start().  On success the server owns fd and closes it
 * when the client disconnects or the server stops; on failure (-1, error
 * set) the caller keeps it. */
int nbd_server_serve_fd(struct nbd_server *s, int fd, const struct nbd_server_preset *preset);

/* After the backend grew (cb_backend_grow): requests up to size bytes are
 * served on every connection, which a client told the size out of band
 * (the kernel) needs.  Clients that negotiated learn nothing: NBD has no
 * resize notification. */
void nbd_server_grow(struct nbd_server *s, uint64_t size);

/* Stop accepting, disconnect every client (those of nbd_server_serve_fd()
 * too) once its in-flight requests have completed, and wait for that.
 * Idempotent; no client is served after it. */
void nbd_server_stop(struct nbd_server *s);
void nbd_server_free(struct nbd_server *s);

#endif
