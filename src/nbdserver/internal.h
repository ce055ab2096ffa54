/* Private to src/nbdserver. */
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
/* Hard cap on a request's payload: larger ones cost a disconnect. */
#define NBD_MAX_REQUEST (32u << 20)
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

/* What the handshake settled for one client. */
struct nbd_session {
	bool structured;
	bool meta_base_allocation;
	struct nbd_export_limits lim;
};

struct nbd_conn {
	struct nbd_server *srv;
	int fd;
	struct nbd_conn *prev, *next;	/* srv->conns, under srv->lock */
	struct nbd_session session;
	char peer[64];
};

/* Reads exactly len bytes; false on EOF or error. */
bool nbd_read_full(int fd, void *buf, size_t len);
bool nbd_write_full(int fd, const void *buf, size_t len);

/* connection.c */
int nbd_conn_spawn(struct nbd_server *s, int fd, const char *peer);
void nbd_conns_shutdown(struct nbd_server *s);

/* handshake.c: true when the client reached the transmission phase. */
bool nbd_handshake(struct nbd_conn *c);
uint16_t nbd_export_flags(const struct nbd_server *s, bool structured);

/* transmission.c */
void nbd_transmission(struct nbd_conn *c);

#endif
