/* Unit tests of src/nbdserver/wire.c: the byte layouts of everything the
 * server sends and parses, the errno mapping, and every path through
 * nbd_check_request(), which decides what reaches the backend.
 */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nbdserver/wire.h"

#define MiB (UINT64_C(1) << 20)

/* Everything a file backend advertises on a read-write export. */
#define ALL_EFLAGS (NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | \
		    NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_DF | \
		    NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE | NBD_FLAG_SEND_FAST_ZERO)

static struct nbd_export_limits full_limits(void)
{
	return (struct nbd_export_limits){
		.size = 64 * MiB,
		.block_min = 1,
		.block_max = 32 * MiB,
		.eflags = ALL_EFLAGS,
		.structured = true,
		.meta_base_allocation = true,
	};
}

static uint32_t check(uint16_t type, uint16_t flags, uint64_t offset, uint32_t length,
		      const struct nbd_export_limits *lim)
{
	struct nbd_request req = { .type = type, .flags = flags, .cookie = 42,
				   .offset = offset, .length = length };

	return nbd_check_request(&req, lim);
}

/* ---- big-endian helpers */

static void test_be_helpers(void **state)
{
	uint8_t b[8];

	(void)state;
	nbd_put16(b, 0x1234);
	assert_memory_equal(b, "\x12\x34", 2);
	assert_int_equal(nbd_get16(b), 0x1234);
	nbd_put32(b, 0xdeadbeef);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(nbd_get32(b), 0xdeadbeef);
	nbd_put64(b, UINT64_C(0x0102030405060708));
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(nbd_get64(b) == UINT64_C(0x0102030405060708));
	/* High bits must not be sign-extended on the way back. */
	nbd_put64(b, UINT64_MAX);
	assert_true(nbd_get64(b) == UINT64_MAX);
	nbd_put32(b, 0x80000000u);
	assert_true(nbd_get32(b) == 0x80000000u);
	nbd_put16(b, 0xffff);
	assert_int_equal(nbd_get16(b), 0xffff);
}

/* ---- requests */

static void test_request_layout(void **state)
{
	static const uint8_t want[NBD_REQUEST_LEN] = {
		0x25, 0x60, 0x95, 0x13,			/* magic */
		0x00, 0x05,				/* flags */
		0x00, 0x06,				/* type */
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,	/* cookie */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00,	/* offset */
		0x00, 0x10, 0x00, 0x00,			/* length */
	};
	struct nbd_request req = {
		.flags = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_DF,
		.type = NBD_CMD_WRITE_ZEROES,
		.cookie = UINT64_C(0xfedcba9876543210),
		.offset = UINT64_C(0x100000200),
		.length = 1 << 20,
	};
	struct nbd_request got;
	uint8_t buf[NBD_REQUEST_LEN];

	(void)state;
	nbd_encode_request(buf, &req);
	assert_memory_equal(buf, want, sizeof want);
	memset(&got, 0xaa, sizeof got);
	assert_true(nbd_decode_request(buf, &got));
	assert_int_equal(got.flags, req.flags);
	assert_int_equal(got.type, req.type);
	assert_true(got.cookie == req.cookie);
	assert_true(got.offset == req.offset);
	assert_int_equal(got.length, req.length);
}

static void test_request_round_trip_extremes(void **state)
{
	struct nbd_request req = { .flags = 0xffff, .type = 0xffff, .cookie = UINT64_MAX,
				   .offset = UINT64_MAX, .length = UINT32_MAX };
	struct nbd_request got;
	uint8_t buf[NBD_REQUEST_LEN];

	(void)state;
	nbd_encode_request(buf, &req);
	assert_true(nbd_decode_request(buf, &got));
	assert_int_equal(got.flags, 0xffff);
	assert_int_equal(got.type, 0xffff);
	assert_true(got.cookie == UINT64_MAX);
	assert_true(got.offset == UINT64_MAX);
	assert_true(got.length == UINT32_MAX);

	req = (struct nbd_request){ 0 };
	nbd_encode_request(buf, &req);
	assert_true(nbd_decode_request(buf, &got));
	assert_int_equal(got.type, NBD_CMD_READ);
	assert_true(got.cookie == 0 && got.offset == 0 && got.length == 0);
}

static void test_request_bad_magic(void **state)
{
	struct nbd_request req = { .type = NBD_CMD_READ, .length = 512 }, got;
	uint8_t buf[NBD_REQUEST_LEN];

	(void)state;
	for (int byte = 0; byte < 4; byte++) {
		nbd_encode_request(buf, &req);
		buf[byte] ^= 0x01;
		assert_false(nbd_decode_request(buf, &got));
	}
	/* A reply magic is not a request magic. */
	nbd_encode_request(buf, &req);
	nbd_put32(buf, NBD_SIMPLE_REPLY_MAGIC);
	assert_false(nbd_decode_request(buf, &got));
	memset(buf, 0, sizeof buf);
	assert_false(nbd_decode_request(buf, &got));
}

/* ---- handshake and options */

static void test_initial_handshake(void **state)
{
	uint8_t buf[NBD_OLD_HANDSHAKE_LEN];

	(void)state;
	nbd_encode_initial_handshake(buf, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	assert_memory_equal(buf, "NBDMAGICIHAVEOPT\x00\x03", sizeof buf);
}

static void test_option_header(void **state)
{
	uint8_t buf[NBD_OPTION_HEADER_LEN];
	struct nbd_option_header oh;

	(void)state;
	memcpy(buf, "IHAVEOPT\x00\x00\x00\x07\x00\x00\x01\x02", sizeof buf);
	assert_true(nbd_decode_option_header(buf, &oh));
	assert_int_equal(oh.option, NBD_OPT_GO);
	assert_int_equal(oh.length, 0x102);

	memcpy(buf, "IHAVEOPT\xde\xad\xbe\xef\xff\xff\xff\xff", sizeof buf);
	assert_true(nbd_decode_option_header(buf, &oh));
	assert_true(oh.option == 0xdeadbeef);
	assert_true(oh.length == UINT32_MAX);

	memcpy(buf, "IHAVEOPS\x00\x00\x00\x07\x00\x00\x00\x00", sizeof buf);
	assert_false(nbd_decode_option_header(buf, &oh));
	memcpy(buf, "NBDMAGIC\x00\x00\x00\x07\x00\x00\x00\x00", sizeof buf);
	assert_false(nbd_decode_option_header(buf, &oh));
}

static void test_option_reply(void **state)
{
	static const uint8_t want[NBD_OPTION_REPLY_LEN] = {
		0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9,	/* magic */
		0x00, 0x00, 0x00, 0x07,				/* option */
		0x80, 0x00, 0x00, 0x01,				/* ERR_UNSUP */
		0x00, 0x00, 0x00, 0x14,				/* length */
	};
	uint8_t buf[NBD_OPTION_REPLY_LEN];

	(void)state;
	nbd_encode_option_reply(buf, NBD_OPT_GO, NBD_REP_ERR_UNSUP, 20);
	assert_memory_equal(buf, want, sizeof want);
	assert_true(nbd_get64(buf) == NBD_REP_MAGIC);

	nbd_encode_option_reply(buf, 0xdeadbeef, NBD_REP_ACK, 0);
	assert_true(nbd_get32(buf + 8) == 0xdeadbeef);
	assert_int_equal(nbd_get32(buf + 12), NBD_REP_ACK);
	assert_int_equal(nbd_get32(buf + 16), 0);
}

/* ---- replies */

static void test_simple_reply(void **state)
{
	static const uint8_t want[NBD_SIMPLE_REPLY_LEN] = {
		0x67, 0x44, 0x66, 0x98,
		0x00, 0x00, 0x00, 0x16,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	uint8_t buf[NBD_SIMPLE_REPLY_LEN];

	(void)state;
	nbd_encode_simple_reply(buf, NBD_EINVAL, UINT64_C(0x0123456789abcdef));
	assert_memory_equal(buf, want, sizeof want);
	nbd_encode_simple_reply(buf, 0, UINT64_MAX);
	assert_int_equal(nbd_get32(buf + 4), 0);
	assert_true(nbd_get64(buf + 8) == UINT64_MAX);
}

static void test_chunk_header(void **state)
{
	static const uint8_t want[NBD_CHUNK_HEADER_LEN] = {
		0x66, 0x8e, 0x33, 0xef,
		0x00, 0x01,					/* DONE */
		0x80, 0x01,					/* ERROR */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,	/* cookie */
		0x00, 0x00, 0x00, 0x06,
	};
	uint8_t buf[NBD_CHUNK_HEADER_LEN];

	(void)state;
	nbd_encode_chunk_header(buf, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, 42, 6);
	assert_memory_equal(buf, want, sizeof want);

	nbd_encode_chunk_header(buf, 0, NBD_REPLY_TYPE_OFFSET_DATA, UINT64_MAX, 8 + 4096);
	assert_int_equal(nbd_get32(buf), NBD_STRUCTURED_REPLY_MAGIC);
	assert_int_equal(nbd_get16(buf + 4), 0);
	assert_int_equal(nbd_get16(buf + 6), NBD_REPLY_TYPE_OFFSET_DATA);
	assert_true(nbd_get64(buf + 8) == UINT64_MAX);
	assert_int_equal(nbd_get32(buf + 16), 8 + 4096);

	nbd_encode_chunk_header(buf, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, 7,
				4 + 8 * 3);
	assert_int_equal(nbd_get16(buf + 6), 5);
	assert_int_equal(nbd_get32(buf + 16), 28);
}

/* ---- errno mapping */

static void test_errno_to_wire(void **state)
{
	static const struct { int err; uint32_t wire; } map[] = {
		{ 0, 0 },
		{ EPERM, NBD_EPERM }, { EROFS, NBD_EPERM },
		{ EIO, NBD_EIO },
		{ ENOMEM, NBD_ENOMEM },
		{ EINVAL, NBD_EINVAL },
		{ ENOSPC, NBD_ENOSPC }, { EDQUOT, NBD_ENOSPC }, { EFBIG, NBD_ENOSPC },
		{ EOVERFLOW, NBD_EOVERFLOW },
		{ ENOTSUP, NBD_ENOTSUP }, { EOPNOTSUPP, NBD_ENOTSUP },
		{ ESHUTDOWN, NBD_ESHUTDOWN },
		/* Anything else is an I/O error to the client. */
		{ EBADF, NBD_EIO }, { ENOENT, NBD_EIO }, { EAGAIN, NBD_EIO },
		{ ENXIO, NBD_EIO }, { EACCES, NBD_EIO }, { 9999, NBD_EIO }, { -1, NBD_EIO },
	};

	(void)state;
	/* The wire values are fixed by the protocol, not by this libc. */
	assert_int_equal(NBD_EPERM, 1);
	assert_int_equal(NBD_EIO, 5);
	assert_int_equal(NBD_ENOMEM, 12);
	assert_int_equal(NBD_EINVAL, 22);
	assert_int_equal(NBD_ENOSPC, 28);
	assert_int_equal(NBD_EOVERFLOW, 75);
	assert_int_equal(NBD_ENOTSUP, 95);
	assert_int_equal(NBD_ESHUTDOWN, 108);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		uint32_t got = nbd_errno_to_wire(map[i].err);

		if (got != map[i].wire)
			fail_msg("errno %d maps to %u, expected %u", map[i].err, got, map[i].wire);
	}
}

/* ---- nbd_check_request: accepted */

static void test_check_accepts(void **state)
{
	struct nbd_export_limits lim = full_limits();
	uint64_t size = lim.size;

	(void)state;
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512, &lim), 0);
	assert_int_equal(check(NBD_CMD_READ, 0, size - 1, 1, &lim), 0);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 32 * MiB, &lim), 0);
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 4096, &lim), 0);
	/* Zero length at the very end is still in range. */
	assert_int_equal(check(NBD_CMD_READ, 0, size, 0, &lim), 0);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 1, 3, &lim), 0);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, size - 32 * MiB, 32 * MiB, &lim), 0);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE |
			       NBD_CMD_FLAG_FAST_ZERO, 0, 4096, &lim), 0);
	/* TRIM, WRITE_ZEROES and CACHE carry no payload: block_max does not apply. */
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, (uint32_t)size, &lim), 0);
	assert_int_equal(check(NBD_CMD_TRIM, NBD_CMD_FLAG_FUA, 0, (uint32_t)size, &lim), 0);
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, (uint32_t)size, &lim), 0);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, (uint32_t)size, &lim), 0);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, 100, 1, &lim), 0);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 0, &lim), 0);
	assert_int_equal(check(NBD_CMD_DISC, 0, 0, 0, &lim), 0);
}

/* ---- nbd_check_request: rejected */

static void test_check_unknown_command(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	assert_int_equal(check(8, 0, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(9, 0, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(99, 0, 0, 0, &lim), NBD_EINVAL);
	assert_int_equal(check(0xffff, 0, 0, 0, &lim), NBD_EINVAL);
}

static void test_check_not_advertised(void **state)
{
	static const struct { uint16_t cmd; uint16_t eflag; } gated[] = {
		{ NBD_CMD_FLUSH, NBD_FLAG_SEND_FLUSH },
		{ NBD_CMD_TRIM, NBD_FLAG_SEND_TRIM },
		{ NBD_CMD_CACHE, NBD_FLAG_SEND_CACHE },
		{ NBD_CMD_WRITE_ZEROES, NBD_FLAG_SEND_WRITE_ZEROES },
	};

	(void)state;
	for (size_t i = 0; i < sizeof gated / sizeof gated[0]; i++) {
		struct nbd_export_limits lim = full_limits();
		uint32_t len = gated[i].cmd == NBD_CMD_FLUSH ? 0 : 512;

		assert_int_equal(check(gated[i].cmd, 0, 0, len, &lim), 0);
		lim.eflags &= (uint16_t)~gated[i].eflag;
		assert_int_equal(check(gated[i].cmd, 0, 0, len, &lim), NBD_EINVAL);
	}
}

static void test_check_flags_per_command(void **state)
{
	struct nbd_export_limits lim = full_limits();
	static const struct { uint16_t cmd; uint16_t flags; } bad[] = {
		{ NBD_CMD_READ, NBD_CMD_FLAG_FUA },
		{ NBD_CMD_READ, NBD_CMD_FLAG_NO_HOLE },
		{ NBD_CMD_READ, NBD_CMD_FLAG_REQ_ONE },
		{ NBD_CMD_READ, NBD_CMD_FLAG_FAST_ZERO },
		{ NBD_CMD_WRITE, NBD_CMD_FLAG_NO_HOLE },
		{ NBD_CMD_WRITE, NBD_CMD_FLAG_DF },
		{ NBD_CMD_WRITE, NBD_CMD_FLAG_REQ_ONE },
		{ NBD_CMD_WRITE, NBD_CMD_FLAG_FAST_ZERO },
		{ NBD_CMD_TRIM, NBD_CMD_FLAG_NO_HOLE },
		{ NBD_CMD_TRIM, NBD_CMD_FLAG_FAST_ZERO },
		{ NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_DF },
		{ NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_REQ_ONE },
		{ NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA },
		{ NBD_CMD_CACHE, NBD_CMD_FLAG_FUA },
		{ NBD_CMD_CACHE, NBD_CMD_FLAG_DF },
		{ NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_FUA },
		{ NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_DF },
		{ NBD_CMD_DISC, NBD_CMD_FLAG_FUA },
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t len = bad[i].cmd == NBD_CMD_FLUSH || bad[i].cmd == NBD_CMD_DISC ? 0 : 512;
		uint32_t got = check(bad[i].cmd, bad[i].flags, 0, len, &lim);

		if (got != NBD_EINVAL)
			fail_msg("command %u with flags 0x%x: %u, expected EINVAL",
				 bad[i].cmd, bad[i].flags, got);
	}
	/* Flags nobody defined are refused on every command. */
	for (uint16_t cmd = NBD_CMD_READ; cmd <= NBD_CMD_BLOCK_STATUS; cmd++) {
		uint32_t len = cmd == NBD_CMD_FLUSH || cmd == NBD_CMD_DISC ? 0 : 512;

		assert_int_equal(check(cmd, 1u << 15, 0, len, &lim), NBD_EINVAL);
		assert_int_equal(check(cmd, 1u << 5, 0, len, &lim), NBD_EINVAL);
	}
}

static void test_check_fua_needs_send_fua(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	lim.eflags &= (uint16_t)~NBD_FLAG_SEND_FUA;
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_TRIM, NBD_CMD_FLAG_FUA, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FUA, 0, 512, &lim), NBD_EINVAL);
	/* Without FUA the same commands are fine. */
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, 512, &lim), 0);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE, 0, 512, &lim), 0);
}

static void test_check_fast_zero_needs_flag(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	lim.eflags &= (uint16_t)~NBD_FLAG_SEND_FAST_ZERO;
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0, 512, &lim),
			 NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, 512, &lim), 0);
}

static void test_check_df_needs_structured(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	lim.structured = false;
	lim.meta_base_allocation = false;
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512, &lim), 0);
}

static void test_check_read_only(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	/* Even if the commands were advertised, a read-only export refuses
	 * every modification with EPERM. */
	lim.eflags |= NBD_FLAG_READ_ONLY;
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, 512, &lim), NBD_EPERM);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, &lim), NBD_EPERM);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 512, &lim), NBD_EPERM);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, 512, &lim), NBD_EPERM);
	/* EPERM wins over range errors: the client learns the real reason. */
	assert_int_equal(check(NBD_CMD_WRITE, 0, lim.size, 512, &lim), NBD_EPERM);
	/* Reads and the like are unaffected. */
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512, &lim), 0);
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 512, &lim), 0);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 0, &lim), 0);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 512, &lim), 0);
}

static void test_check_out_of_range(void **state)
{
	struct nbd_export_limits lim = full_limits();
	uint64_t size = lim.size;

	(void)state;
	/* Starting at the end. */
	assert_int_equal(check(NBD_CMD_READ, 0, size, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, size, 1, &lim), NBD_ENOSPC);
	assert_int_equal(check(NBD_CMD_TRIM, 0, size, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, size, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_CACHE, 0, size, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, size, 1, &lim), NBD_EINVAL);
	/* Crossing the end by one byte. */
	assert_int_equal(check(NBD_CMD_READ, 0, size - 511, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, size - 511, 512, &lim), NBD_ENOSPC);
	/* Past the end, even with no length. */
	assert_int_equal(check(NBD_CMD_READ, 0, size + 1, 0, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, size + 1, 0, &lim), NBD_ENOSPC);
	/* An empty export has no room at all. */
	lim.size = 0;
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 0, &lim), 0);
}

static void test_check_overflow(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	/* offset + length wraps past 2^64 to a small number: still refused. */
	lim.size = UINT64_MAX;
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX - 100, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, UINT64_MAX - 100, 512, &lim), NBD_ENOSPC);
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX, 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX - 512, 512, &lim), 0);
	lim = full_limits();
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX - 511, 1024, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, UINT64_MAX - 511, 1024, &lim), NBD_ENOSPC);
	assert_int_equal(check(NBD_CMD_TRIM, 0, UINT64_MAX - 511, 1024, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, UINT64_MAX - 511, 1024, &lim),
			 NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_CACHE, 0, UINT64_MAX - 511, 1024, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, UINT64_MAX - 511, 1024, &lim),
			 NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, UINT64_MAX, UINT32_MAX, &lim), NBD_EINVAL);
}

static void test_check_block_max(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	assert_int_equal(check(NBD_CMD_READ, 0, 0, lim.block_max, &lim), 0);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, lim.block_max + 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, lim.block_max + 1, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, UINT32_MAX, &lim), NBD_EINVAL);
	/* Over the maximum is reported before out of range. */
	lim.size = 4096;
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, lim.block_max + 1, &lim), NBD_EINVAL);
}

static void test_check_block_min(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	lim.block_min = 512;
	assert_int_equal(check(NBD_CMD_READ, 0, 512, 1024, &lim), 0);
	assert_int_equal(check(NBD_CMD_READ, 0, 1, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 0, 512, 100, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 4096, 513, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 256, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 512, 511, &lim), NBD_EINVAL);
	/* Hints and queries need no alignment. */
	assert_int_equal(check(NBD_CMD_CACHE, 0, 1, 3, &lim), 0);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 7, 9, &lim), 0);
	/* A block size of 1 (buffered I/O) allows anything. */
	lim.block_min = 1;
	assert_int_equal(check(NBD_CMD_WRITE, 0, 1, 3, &lim), 0);
}

static void test_check_block_status(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 0, &lim), NBD_EINVAL);
	lim.meta_base_allocation = false;
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, 0, 512, &lim),
			 NBD_EINVAL);
}

static void test_check_no_range_commands(void **state)
{
	struct nbd_export_limits lim = full_limits();

	(void)state;
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 512, 0, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 512, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, UINT64_MAX, UINT32_MAX, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_DISC, 0, 1, 0, &lim), NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_DISC, 0, 0, 1, &lim), NBD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_be_helpers),
		cmocka_unit_test(test_request_layout),
		cmocka_unit_test(test_request_round_trip_extremes),
		cmocka_unit_test(test_request_bad_magic),
		cmocka_unit_test(test_initial_handshake),
		cmocka_unit_test(test_option_header),
		cmocka_unit_test(test_option_reply),
		cmocka_unit_test(test_simple_reply),
		cmocka_unit_test(test_chunk_header),
		cmocka_unit_test(test_errno_to_wire),
		cmocka_unit_test(test_check_accepts),
		cmocka_unit_test(test_check_unknown_command),
		cmocka_unit_test(test_check_not_advertised),
		cmocka_unit_test(test_check_flags_per_command),
		cmocka_unit_test(test_check_fua_needs_send_fua),
		cmocka_unit_test(test_check_fast_zero_needs_flag),
		cmocka_unit_test(test_check_df_needs_structured),
		cmocka_unit_test(test_check_read_only),
		cmocka_unit_test(test_check_out_of_range),
		cmocka_unit_test(test_check_overflow),
		cmocka_unit_test(test_check_block_max),
		cmocka_unit_test(test_check_block_min),
		cmocka_unit_test(test_check_block_status),
		cmocka_unit_test(test_check_no_range_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
