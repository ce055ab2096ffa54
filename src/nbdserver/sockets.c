/* Listening sockets and the acceptor thread. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/log.h"

static int add_listener(struct nbd_server *s, int fd)
{
	if (s->nlisten == NBD_MAX_LISTENERS) {
		close(fd);
		cb_set_error(EMFILE, "too many listening sockets");
		return -1;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		cb_set_error_errno(errno, "listen");
		close(fd);
		return -1;
	}
	s->listen_fds[s->nlisten++] = fd;
	return 0;
}

int nbd_server_listen_unix(struct nbd_server *s, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		cb_set_error(ENAMETOOLONG, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Replace a stale socket, never a regular file someone cares about. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			cb_set_error(EEXIST, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		cb_set_error_errno(errno, "socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		cb_set_error_errno(errno, "cannot bind %s", path);
		close(fd);
		return -1;
	}
	if (add_listener(s, fd) == -1)
		return -1;
	free(s->unix_path);
	s->unix_path = strdup(path);
	return 0;
}

/* 1 to 65535 in decimal digits only. */
static bool valid_port(const char *port)
{
	unsigned long v = 0;

	if (!*port || strlen(port) > 5)
		return false;
	for (const char *p = port; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

int nbd_server_listen_tcp(struct nbd_server *s, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int r, fd = -1, one = 1;

	if (!host)
		host = "127.0.0.1";
	/* glibc takes any number as a service and truncates it to 16 bits,
	 * so port 99999 would quietly listen on 34463. */
	if (!valid_port(port)) {
		cb_set_error(EINVAL, "invalid TCP port '%s'", port);
		return -1;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		cb_set_error(EINVAL, "cannot resolve %s:%s: %s", host, port, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = errno;
		close(fd);
		fd = -1;
		errno = r;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		cb_set_error_errno(errno, "cannot bind %s:%s", host, port);
		return -1;
	}
	return add_listener(s, fd);
}

static void describe_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1 || ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "unix:fd%d", fd);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, len, "%s:%d", host, port);
}

/* For any client's socket; TCP_NODELAY fails harmlessly on others. */
void nbd_socket_tune(int fd)
{
	int one = 1, sockbuf = NBD_SOCKET_BUFFER;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* The default buffers (about 208 KiB) make the single writev() of a
	 * batch of 1 MiB replies block many times over. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof sockbuf);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof sockbuf);
}

static void accept_one(struct nbd_server *s, int lfd)
{
	char peer[64];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			cb_log(CB_LOG_WARNING, "accept: %s", strerror(errno));
		return;
	}
	nbd_socket_tune(fd);
	describe_peer(fd, peer, sizeof peer);
	if (nbd_conn_spawn(s, fd, peer, NULL) == -1) {
		cb_log(CB_LOG_WARNING, "client %s refused: %s", peer, cb_get_error());
		close(fd);
	}
}

static void *acceptor_main(void *arg)
{
	struct nbd_server *s = arg;
	struct pollfd pfd[NBD_MAX_LISTENERS + 1];

	for (unsigned i = 0; i < s->nlisten; i++)
		pfd[i] = (struct pollfd){ .fd = s->listen_fds[i], .events = POLLIN };
	pfd[s->nlisten] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, s->nlisten + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			cb_log(CB_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[s->nlisten].revents)
			break;
		for (unsigned i = 0; i < s->nlisten; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(s, pfd[i].fd);
	}
	return NULL;
}

int nbd_acceptor_start(struct nbd_server *s)
{
	int err;

	if (s->nlisten == 0) {
		cb_set_error(EINVAL, "the NBD server has nowhere to listen");
		return -1;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (s->wake_fd == -1) {
		cb_set_error_errno(errno, "eventfd");
		return -1;
	}
	err = pthread_create(&s->acceptor, NULL, acceptor_main, s);
	if (err) {
		cb_set_error_errno(err, "cannot start the acceptor thread");
		return -1;
	}
	s->started = true;
	return 0;
}

void nbd_acceptor_stop(struct nbd_server *s)
{
	uint64_t one = 1;

	if (s->started) {
		if (write(s->wake_fd, &one, sizeof one) != sizeof one)
			cb_log(CB_LOG_WARNING, "cannot wake the acceptor: %s", strerror(errno));
		pthread_join(s->acceptor, NULL);
		s->started = false;
	}
	for (unsigned i = 0; i < s->nlisten; i++)
		close(s->listen_fds[i]);
	s->nlisten = 0;
}

void nbd_sockets_release(struct nbd_server *s)
{
	if (s->unix_path)
		unlink(s->unix_path);
	free(s->unix_path);
	s->unix_path = NULL;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
}
