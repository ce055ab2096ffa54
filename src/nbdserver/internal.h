/* Private to src/nbdserver.
 *
 * The folder is a stack: each file calls only those listed after it.
 *   server.c        the server object's life; serving a given descriptor
 *   sockets.c       listening sockets and the acceptor thread
 *   connection.c    a client's life: its thread, handshake, transmission
 *   handshake.c     option haggling up to the transmission phase
 *   transmission.c  the request loop (tx.h; + oversize.c, zerocopy.c, spin.c)
 *   session.c       transmission flags and limits
 *   io.c, wire.c    whole-buffer socket I/O; the pure codec
 */
#ifndef CB_NBD_INTERNAL_H
#define CB_NBD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "spin.h"
#include "wire.h"

#define NBD_MAX_LISTENERS 8
/* The most advertised as the maximum payload (NBD_INFO_BLOCK_SIZE), and
 * so the limit for clients that negotiated block sizes. */
#define NBD_ADVERTISED_MAX (32u << 20)
#define NBD_SOCKET_BUFFER (4 << 20)

struct nbd_server {
	struct cb_backend *backend;
	char *export_name;
	char *description;
	bool read_only;

	int listen_fds[NBD_MAX_LISTENERS];
	unsigned nlisten;
	char *unix_path;	/* unlinked on free */
	int wake_fd;		/* eventfd: tells the acceptor to stop */
	pthread_t acceptor;
	bool started;

	pthread_mutex_t lock;
	pthread_cond_t idle;	/* signalled when nconns drops to 0 */
	struct nbd_conn *conns;
	unsigned nconns;
	bool stopping;

	struct nbd_spin_limit spin;
};

/* What the handshake settled for one client, or what it was told out of
 * band (nbd_server_serve_fd). */
struct nbd_session {
	bool structured;
	bool meta_base_allocation;
	struct nbd_export_limits lim;
};

struct nbd_conn {
	struct nbd_server *srv;
	int fd;
	bool preset;			/* the session was set without a handshake */
	struct nbd_conn *prev, *next;	/* srv->conns, under srv->lock */
	struct nbd_session session;
	char peer[64];
};

/* io.c.  Reads exactly len bytes; false on EOF or error. */
bool nbd_read_full(int fd, void *buf, size_t len);
bool nbd_write_full(int fd, const void *buf, size_t len);

/* session.c */
uint32_t nbd_advertised_max(const struct nbd_server *s);
uint16_t nbd_export_flags(const struct nbd_server *s, bool read_only, bool structured);
/* Fills ses->lim from the export and from what was negotiated. */
void nbd_session_settle(struct nbd_session *ses, const struct nbd_server *s, bool read_only,
			uint32_t block_min, uint32_t block_max);

/* handshake.c: true when the client reached the transmission phase. */
bool nbd_handshake(struct nbd_conn *c);

/* transmission.c */
void nbd_transmission(struct nbd_conn *c);

/* connection.c.  preset NULL: the client starts with the handshake. */
int nbd_conn_spawn(struct nbd_server *s, int fd, const char *peer,
		   const struct nbd_session *preset);
void nbd_conns_shutdown(struct nbd_server *s);
/* Clients connected now, in the handshake or past it. */
unsigned nbd_conns_count(struct nbd_server *s);
/* Lets every client reach the export's new, larger size. */
void nbd_conns_grow(struct nbd_server *s, uint64_t size);

/* sockets.c */
void nbd_socket_tune(int fd);
int nbd_acceptor_start(struct nbd_server *s);
/* Stops the acceptor (if started) and closes the listening sockets. */
void nbd_acceptor_stop(struct nbd_server *s);
/* Removes the Unix socket file and frees what listening used. */
void nbd_sockets_release(struct nbd_server *s);

#endif
