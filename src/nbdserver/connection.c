/* A client's life: one thread from accept (or nbd_server_serve_fd) to
 * close, and the server-wide bookkeeping that lets nbd_server_stop() wait
 * for every client. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

static void conn_unlink(struct nbd_conn *c)
{
	struct nbd_server *s = c->srv;

	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (--s->nconns == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

unsigned nbd_conns_count(struct nbd_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->nconns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void *conn_main(void *arg)
{
	struct nbd_conn *c = arg;

	cb_log(CB_LOG_DEBUG, "client %s connected", c->peer);
	if (c->preset || nbd_handshake(c))
		nbd_transmission(c);
	cb_log(CB_LOG_DEBUG, "client %s disconnected", c->peer);
	conn_unlink(c);
	/* The peer sees the end even while another descriptor of the socket
	 * lives (the export keeps one of each of /dev/nbdN's). */
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	free(c);
	return NULL;
}

int nbd_conn_spawn(struct nbd_server *s, int fd, const char *peer,
		   const struct nbd_session *preset)
{
	struct nbd_conn *c = calloc(1, sizeof *c);
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (!c) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	c->srv = s;
	c->fd = fd;
	if (preset) {
		c->preset = true;
		c->session = *preset;
	}
	snprintf(c->peer, sizeof c->peer, "%s", peer);

	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		free(c);
		cb_set_error(ESHUTDOWN, "server is shutting down");
		return -1;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	pthread_mutex_unlock(&s->lock);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (err) {
		conn_unlink(c);
		free(c);
		cb_set_error_errno(err, "cannot start a client thread");
		return -1;
	}
	return 0;
}

/* A client that negotiated the old size keeps it (it was told once, at
 * the handshake); one told out of band (the kernel) is told again by its
 * caller, so every session serves up to the new size. */
void nbd_conns_grow(struct nbd_server *s, uint64_t size)
{
	pthread_mutex_lock(&s->lock);
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		__atomic_store_n(&c->session.lim.size, size, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->lock);
}

/* Shutting the sockets down wakes each client thread; every thread then
 * waits for its in-flight I/O before it leaves, so once nconns is 0 no
 * backend request is outstanding. */
void nbd_conns_shutdown(struct nbd_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (struct nbd_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->nconns)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
}
