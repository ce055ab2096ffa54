/* A client's life: one thread from accept to close, and the server-wide
 * bookkeeping that lets nbd_server_stop() wait for every client. */
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

struct nbd_server *nbd_server_new(struct cb_backend *backend,
				  const struct nbd_server_config *cfg)
{
	struct nbd_server *s = calloc(1, sizeof *s);

	if (!s) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	s->backend = backend;
	s->read_only = cfg->read_only || backend->caps.read_only;
	s->export_name = cfg->export_name ? strdup(cfg->export_name) : NULL;
	s->description = cfg->description ? strdup(cfg->description) : NULL;
	s->wake_fd = -1;
	nbd_spin_limit_init(&s->spin);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	return s;
}

void nbd_server_free(struct nbd_server *s)
{
	if (!s)
		return;
	nbd_server_stop(s);
	if (s->unix_path)
		unlink(s->unix_path);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s->unix_path);
	free(s->export_name);
	free(s->description);
	free(s);
}

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

static void *conn_main(void *arg)
{
	struct nbd_conn *c = arg;

	cb_log(CB_LOG_DEBUG, "client %s connected", c->peer);
	if (nbd_handshake(c))
		nbd_transmission(c);
	cb_log(CB_LOG_DEBUG, "client %s disconnected", c->peer);
	conn_unlink(c);
	close(c->fd);
	free(c);
	return NULL;
}

int nbd_conn_spawn(struct nbd_server *s, int fd, const char *peer)
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
