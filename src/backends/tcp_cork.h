/* Corking a library's TCP socket while it sends a batch.  libnfs and
 * libiscsi send each queued PDU with a send() of its own, and on a busy
 * host each can wake the server, which then takes the CPU before the next:
 * corked, the batch leaves as one segment when uncorked and wakes it once.
 * Best effort: a socket that refuses (not TCP) just sends as before. */
#ifndef CB_TCP_CORK_H
#define CB_TCP_CORK_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static inline void cb_tcp_cork(int fd, int on)
{
	(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

#endif
