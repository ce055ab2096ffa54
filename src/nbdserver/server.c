/* The server object's life, and serving a descriptor whose handshake
 * happened elsewhere. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "lib/error.h"

_Static_assert(NBD_SERVER_MAX_NAME == NBD_MAX_STRING, "export names are protocol strings");
_Static_assert(NBD_ADVERTISED_MAX <= NBD_SERVER_MAX_PAYLOAD,
	       "clients that negotiate get no more than those that do not");

struct nbd_server *nbd_server_new(struct cb_backend *backend,
				  const struct nbd_server_config *cfg)
{
	struct nbd_server *s;

	if (cfg->export_name && strlen(cfg->export_name) > NBD_SERVER_MAX_NAME) {
		cb_set_error(EINVAL, "the export name is longer than %d bytes",
			     NBD_SERVER_MAX_NAME);
		return NULL;
	}
	s = calloc(1, sizeof *s);
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

int nbd_server_start(struct nbd_server *s)
{
	return nbd_acceptor_start(s);
}

void nbd_server_grow(struct nbd_server *s, uint64_t size)
{
	nbd_conns_grow(s, size);
}

void nbd_server_stop(struct nbd_server *s)
{
	nbd_acceptor_stop(s);
	nbd_conns_shutdown(s);
}

void nbd_server_free(struct nbd_server *s)
{
	if (!s)
		return;
	nbd_server_stop(s);
	nbd_sockets_release(s);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s->export_name);
	free(s->description);
	free(s);
}

uint16_t nbd_server_transmission_flags(const struct nbd_server *s, bool read_only)
{
	return nbd_export_flags(s, read_only, false);
}

static bool is_power_of_2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int check_preset(const struct nbd_server *s, const struct nbd_server_preset *p,
			uint32_t block_min, uint32_t block_max)
{
	uint32_t backend_min = s->backend->caps.block_min;

	if (!is_power_of_2(block_min) || block_min > (64u << 10) || block_min % backend_min) {
		cb_set_error(EINVAL, "block_min %u must be a power of two of at most 64 KiB "
			     "and a multiple of the backend's minimum, %u", p->block_min, backend_min);
		return -1;
	}
	if (block_max < block_min || block_max > NBD_SERVER_MAX_PAYLOAD) {
		cb_set_error(EINVAL, "block_max %u must lie between block_min (%u) and %u",
			     p->block_max, block_min, NBD_SERVER_MAX_PAYLOAD);
		return -1;
	}
	return 0;
}

static int check_stream_socket(int fd)
{
	int type;
	socklen_t len = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		cb_set_error_errno(errno, "descriptor %d is not a socket", fd);
		return -1;
	}
	if (type != SOCK_STREAM) {
		cb_set_error(EINVAL, "descriptor %d is not a stream socket", fd);
		return -1;
	}
	return 0;
}

int nbd_server_serve_fd(struct nbd_server *s, int fd, const struct nbd_server_preset *preset)
{
	struct nbd_session ses = { .structured = false };
	uint32_t block_min = preset->block_min ? preset->block_min : s->backend->caps.block_min;
	uint32_t block_max = preset->block_max ? preset->block_max : NBD_SERVER_MAX_PAYLOAD;
	char peer[32];

	if (check_preset(s, preset, block_min, block_max) == -1 || check_stream_socket(fd) == -1)
		return -1;
	nbd_session_settle(&ses, s, preset->read_only, block_min, block_max);
	nbd_socket_tune(fd);
	snprintf(peer, sizeof peer, "fd:%d", fd);
	return nbd_conn_spawn(s, fd, peer, &ses);
}
