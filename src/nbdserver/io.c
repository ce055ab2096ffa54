/* Blocking socket I/O of whole buffers, for the handshake and for payloads
 * that do not fit the transmission phase's receive buffer. */
#include <config.h>

#include <errno.h>
#include <sys/socket.h>

#include "internal.h"

bool nbd_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

bool nbd_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}
