/* Plays the kernel's NBD client against nbd_server_serve_fd(): hands the
 * server one end of a socketpair, with no handshake, over a file backend,
 * and speaks raw transmission-phase NBD with simple replies on the other
 * end, as /dev/nbdN does.  Run by tests/test-serve-fd.sh.
 *
 *   serve-fd-client DISK     DISK: a file of at least 8 MiB, overwritten
 *
 * Prints "ok - WHAT" per check; exits 0 when all pass, 1 at the first
 * failure, saying what it expected.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/backend.h"
#include "lib/error.h"
#include "lib/log.h"
#include "nbdserver/server.h"
#include "nbdserver/wire.h"

#define MiB (1u << 20)
#define IO_TIMEOUT_S 30
#define NPIPELINED 16

static const char *disk;

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void ok(const char *what)
{
	printf("ok - %s\n", what);
}

static void log_to_stderr(enum cb_log_level level, const char *msg, void *opaque)
{
	fprintf(stderr, "# server: %s\n", msg);
}

static void send_all(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		fail("send of %zu bytes: %s", len, strerror(errno));
}

static void recv_all(int fd, void *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_WAITALL);

	if (n != (ssize_t)len)
		fail("expected %zu bytes from the server, got %zd (%s)", len, n,
		     n < 0 ? strerror(errno) : "end of stream");
}

static void request(int fd, uint16_t type, uint16_t flags, uint64_t cookie,
		    uint64_t offset, uint32_t length, const void *payload)
{
	struct nbd_request req = { .flags = flags, .type = type, .cookie = cookie,
				   .offset = offset, .length = length };
	uint8_t buf[NBD_REQUEST_LEN];

	nbd_encode_request(buf, &req);
	send_all(fd, buf, sizeof buf);
	if (payload)
		send_all(fd, payload, length);
}

/* Reads one simple reply header; returns its error and sets *cookie. */
static uint32_t reply(int fd, uint64_t *cookie)
{
	uint8_t buf[NBD_SIMPLE_REPLY_LEN];

	recv_all(fd, buf, sizeof buf);
	if (nbd_get32(buf) != NBD_SIMPLE_REPLY_MAGIC)
		fail("reply magic 0x%08x is not the simple reply's", nbd_get32(buf));
	*cookie = nbd_get64(buf + 8);
	return nbd_get32(buf + 4);
}

static void expect_reply(int fd, uint64_t cookie, uint32_t err, const char *what)
{
	uint64_t got_cookie;
	uint32_t got = reply(fd, &got_cookie);

	if (got_cookie != cookie)
		fail("%s: reply for cookie %llu, expected %llu", what,
		     (unsigned long long)got_cookie, (unsigned long long)cookie);
	if (got != err)
		fail("%s: error %u, expected %u", what, got, err);
	ok(what);
}

static void expect_data(int fd, const void *want, uint32_t len, const char *what)
{
	char *got = malloc(len);

	if (!got)
		fail("out of memory");
	recv_all(fd, got, len);
	if (memcmp(got, want, len))
		fail("%s: the data read back differs", what);
	free(got);
	ok(what);
}

static void expect_eof(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	if (n != 0)
		fail("%s: expected the server to close, got %zd (%s)", what, n,
		     n < 0 ? strerror(errno) : "data");
	ok(what);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

/* One end of a new socketpair served by s; returns the client's end. */
static int serve_pair(struct nbd_server *s, const struct nbd_server_preset *p)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fail("socketpair: %s", strerror(errno));
	if (nbd_server_serve_fd(s, sv[0], p) == -1)
		fail("nbd_server_serve_fd: %s", cb_get_error());
	/* A server that never answers fails the test instead of hanging it. */
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return sv[1];
}

static void check_refusals(struct nbd_server *s)
{
	struct nbd_server_preset bad_min = { .block_min = 3 }, bad_max = { .block_max = 128 * MiB };
	struct nbd_server_preset fine = { 0 };
	int p[2];

	if (nbd_server_serve_fd(s, 0, &bad_min) != -1 || cb_get_errno() != EINVAL)
		fail("a block_min of 3 was not refused with EINVAL");
	ok("block_min 3 refused");
	if (nbd_server_serve_fd(s, 0, &bad_max) != -1 || cb_get_errno() != EINVAL)
		fail("a block_max of 128 MiB was not refused with EINVAL");
	ok("block_max 128 MiB refused");
	if (pipe2(p, O_CLOEXEC) == -1)
		fail("pipe: %s", strerror(errno));
	if (nbd_server_serve_fd(s, p[0], &fine) != -1)
		fail("a pipe was taken as a socket");
	ok("a pipe refused");
	close(p[0]);
	close(p[1]);
}

static void check_flags(struct nbd_server *s)
{
	uint16_t rw = nbd_server_transmission_flags(s, false);
	uint16_t ro = nbd_server_transmission_flags(s, true);
	uint16_t want = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
			NBD_FLAG_SEND_TRIM;

	if ((rw & want) != want || (rw & (NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_DF)))
		fail("read-write transmission flags 0x%x", rw);
	ok("read-write transmission flags");
	if (!(ro & NBD_FLAG_READ_ONLY) || (ro & (NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_FUA)))
		fail("read-only transmission flags 0x%x", ro);
	ok("read-only transmission flags");
}

static void check_file(uint64_t offset, const void *want, size_t len)
{
	char *got = malloc(len);
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	if (!got || fd == -1 || pread(fd, got, len, (off_t)offset) != (ssize_t)len)
		fail("cannot read %s back: %s", disk, strerror(errno));
	if (memcmp(got, want, len))
		fail("the file does not hold what was written");
	close(fd);
	free(got);
	ok("the file holds what was written");
}

/* Many requests in one send; replies may come in any order. */
static void check_pipelined(int c, const uint8_t *data)
{
	uint8_t reqs[NPIPELINED][NBD_REQUEST_LEN], got[4096];
	bool seen[NPIPELINED] = { false };

	for (unsigned i = 0; i < NPIPELINED; i++) {
		struct nbd_request r = { .type = NBD_CMD_READ, .cookie = 100 + i,
					 .offset = MiB + 4096 * i, .length = 4096 };

		nbd_encode_request(reqs[i], &r);
	}
	send_all(c, reqs, sizeof reqs);
	for (unsigned n = 0; n < NPIPELINED; n++) {
		uint64_t cookie;
		uint32_t err = reply(c, &cookie);
		unsigned i = (unsigned)(cookie - 100);

		if (err || cookie < 100 || i >= NPIPELINED || seen[i])
			fail("pipelined reads: error %u for cookie %llu", err,
			     (unsigned long long)cookie);
		seen[i] = true;
		recv_all(c, got, sizeof got);
		if (memcmp(got, data + 4096 * i, sizeof got))
			fail("pipelined read %u returned the wrong data", i);
	}
	ok("16 pipelined reads, each reply with its own data");
}

static void session_read_write(struct nbd_server *s, uint64_t size)
{
	struct nbd_server_preset p = { .block_min = 512 };
	uint8_t *data = malloc(MiB), *zeros = calloc(1, 64 << 10), small[1024];
	int c = serve_pair(s, &p);

	if (!data || !zeros)
		fail("out of memory");
	fill(data, MiB, 7);
	request(c, NBD_CMD_WRITE, 0, 1, MiB, MiB, data);
	expect_reply(c, 1, 0, "WRITE of 1 MiB");
	request(c, NBD_CMD_READ, 0, 2, MiB, MiB, NULL);
	expect_reply(c, 2, 0, "READ of 1 MiB");
	expect_data(c, data, MiB, "READ returns what was written");
	request(c, NBD_CMD_FLUSH, 0, 3, 0, 0, NULL);
	expect_reply(c, 3, 0, "FLUSH");
	check_file(MiB, data, MiB);
	check_pipelined(c, data);
	request(c, NBD_CMD_TRIM, 0, 4, MiB, 64 << 10, NULL);
	expect_reply(c, 4, 0, "TRIM of 64 KiB");
	request(c, NBD_CMD_READ, 0, 5, MiB, 64 << 10, NULL);
	expect_reply(c, 5, 0, "READ of the trimmed range");
	expect_data(c, zeros, 64 << 10, "the trimmed range reads as zeroes");
	request(c, NBD_CMD_READ, 0, 6, size, 512, NULL);
	expect_reply(c, 6, NBD_EINVAL, "READ past the end: EINVAL, no payload");
	memset(small, 0x5a, sizeof small);
	request(c, NBD_CMD_WRITE, 0, 7, size - 512, sizeof small, small);
	expect_reply(c, 7, NBD_ENOSPC, "WRITE across the end: ENOSPC, payload skipped");
	request(c, NBD_CMD_READ, 0, 8, 100, 512, NULL);
	expect_reply(c, 8, NBD_EINVAL, "READ off the 512-byte block_min: EINVAL");
	request(c, NBD_CMD_READ, 0, 9, 2 * MiB - 512, 512, NULL);
	expect_reply(c, 9, 0, "READ after the refusals");
	expect_data(c, data + MiB - 512, 512, "the stream is still in step");
	request(c, NBD_CMD_DISC, 0, 10, 0, 0, NULL);
	expect_eof(c, "DISC: the server closes the connection");
	close(c);
	free(data);
	free(zeros);
}

/* Read-only, with a 1 MiB block_max; left open for nbd_server_stop(). */
static int session_read_only(struct nbd_server *s)
{
	struct nbd_server_preset p = { .read_only = true, .block_max = MiB };
	uint8_t *data = malloc(2 * MiB);
	int c = serve_pair(s, &p);

	if (!data)
		fail("out of memory");
	fill(data, 2 * MiB, 9);
	request(c, NBD_CMD_WRITE, 0, 20, 0, 4096, data);
	expect_reply(c, 20, NBD_EPERM, "read-only: WRITE gets EPERM");
	request(c, NBD_CMD_TRIM, 0, 21, 0, 4096, NULL);
	expect_reply(c, 21, NBD_EINVAL, "read-only: TRIM, not advertised, gets EINVAL");
	request(c, NBD_CMD_READ, 0, 22, 0, 2 * MiB, NULL);
	expect_reply(c, 22, NBD_EINVAL, "READ over block_max: EINVAL");
	request(c, NBD_CMD_WRITE, 0, 23, 0, 2 * MiB, data);
	expect_reply(c, 23, NBD_EPERM, "WRITE over block_max: refused, payload skipped");
	fill(data, MiB, 7);
	request(c, NBD_CMD_READ, 0, 24, MiB + (64 << 10), 4096, NULL);
	expect_reply(c, 24, 0, "read-only: READ");
	expect_data(c, data + (64 << 10), 4096, "read-only: the data of the other session");
	free(data);
	return c;
}

static struct cb_backend *open_disk(void)
{
	json_t *ci = json_pack("{s:s, s:{s:s}}", "driver_volume_type", "local",
			       "data", "device_path", disk);
	struct cb_open_opts opts = { .read_only = false };
	struct cb_backend *b = ci ? cb_backend_open(ci, &opts) : NULL;

	json_decref(ci);
	if (!b)
		fail("cannot open %s: %s", disk, cb_get_error());
	return b;
}

int main(int argc, char **argv)
{
	struct nbd_server_config cfg = { 0 };
	struct nbd_server_preset fine = { 0 };
	struct cb_backend *b;
	struct nbd_server *s;
	int c, sv[2];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DISK\n", argv[0]);
		return 2;
	}
	disk = argv[1];
	cb_set_log_fn(log_to_stderr, NULL);
	b = open_disk();
	if (b->caps.size < 8 * MiB)
		fail("%s must be at least 8 MiB", disk);
	s = nbd_server_new(b, &cfg);
	if (!s)
		fail("nbd_server_new: %s", cb_get_error());
	check_refusals(s);
	check_flags(s);
	session_read_write(s, b->caps.size);
	c = session_read_only(s);
	nbd_server_stop(s);
	expect_eof(c, "nbd_server_stop disconnects a served descriptor");
	close(c);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fail("socketpair: %s", strerror(errno));
	if (nbd_server_serve_fd(s, sv[0], &fine) != -1 || cb_get_errno() != ESHUTDOWN)
		fail("a descriptor was taken after nbd_server_stop");
	ok("no descriptor is served after nbd_server_stop");
	close(sv[0]);
	close(sv[1]);
	nbd_server_free(s);
	cb_backend_close(b);
	return 0;
}
