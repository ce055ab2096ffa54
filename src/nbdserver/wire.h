/* The NBD wire format (NetworkBlockDevice/nbd doc/proto.md): constants and
 * pure encode/decode helpers.  Everything on the wire is big-endian; these
 * functions are the only place that knows the layouts.
 */
#ifndef CB_NBD_WIRE_H
#define CB_NBD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBD_MAGIC		UINT64_C(0x4e42444d41474943)	/* "NBDMAGIC" */
#define NBD_IHAVEOPT		UINT64_C(0x49484156454f5054)	/* "IHAVEOPT" */
#define NBD_REP_MAGIC		UINT64_C(0x0003e889045565a9)
#define NBD_REQUEST_MAGIC	UINT32_C(0x25609513)
#define NBD_SIMPLE_REPLY_MAGIC	UINT32_C(0x67446698)
#define NBD_STRUCTURED_REPLY_MAGIC UINT32_C(0x668e33ef)

/* Handshake flags (server) and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE	(1u << 0)
#define NBD_FLAG_NO_ZEROES	(1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES	(1u << 1)

/* Transmission flags. */
#define NBD_FLAG_HAS_FLAGS	(1u << 0)
#define NBD_FLAG_READ_ONLY	(1u << 1)
#define NBD_FLAG_SEND_FLUSH	(1u << 2)
#define NBD_FLAG_SEND_FUA	(1u << 3)
#define NBD_FLAG_ROTATIONAL	(1u << 4)
#define NBD_FLAG_SEND_TRIM	(1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF	(1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN	(1u << 8)
#define NBD_FLAG_SEND_CACHE	(1u << 10)
#define NBD_FLAG_SEND_FAST_ZERO	(1u << 11)

/* Options. */
#define NBD_OPT_EXPORT_NAME	1
#define NBD_OPT_ABORT		2
#define NBD_OPT_LIST		3
#define NBD_OPT_STARTTLS	5
#define NBD_OPT_INFO		6
#define NBD_OPT_GO		7
#define NBD_OPT_STRUCTURED_REPLY 8
#define NBD_OPT_LIST_META_CONTEXT 9
#define NBD_OPT_SET_META_CONTEXT 10

/* Option replies. */
#define NBD_REP_ACK		1
#define NBD_REP_SERVER		2
#define NBD_REP_INFO		3
#define NBD_REP_META_CONTEXT	4
#define NBD_REP_ERR_UNSUP	(UINT32_C(1) << 31 | 1)
#define NBD_REP_ERR_POLICY	(UINT32_C(1) << 31 | 2)
#define NBD_REP_ERR_INVALID	(UINT32_C(1) << 31 | 3)
#define NBD_REP_ERR_PLATFORM	(UINT32_C(1) << 31 | 4)
#define NBD_REP_ERR_TLS_REQD	(UINT32_C(1) << 31 | 5)
#define NBD_REP_ERR_UNKNOWN	(UINT32_C(1) << 31 | 6)
#define NBD_REP_ERR_TOO_BIG	(UINT32_C(1) << 31 | 9)

/* NBD_REP_INFO types. */
#define NBD_INFO_EXPORT		0
#define NBD_INFO_NAME		1
#define NBD_INFO_DESCRIPTION	2
#define NBD_INFO_BLOCK_SIZE	3

/* Commands and command flags. */
#define NBD_CMD_READ		0
#define NBD_CMD_WRITE		1
#define NBD_CMD_DISC		2
#define NBD_CMD_FLUSH		3
#define NBD_CMD_TRIM		4
#define NBD_CMD_CACHE		5
#define NBD_CMD_WRITE_ZEROES	6
#define NBD_CMD_BLOCK_STATUS	7

#define NBD_CMD_FLAG_FUA	(1u << 0)
#define NBD_CMD_FLAG_NO_HOLE	(1u << 1)
#define NBD_CMD_FLAG_DF		(1u << 2)
#define NBD_CMD_FLAG_REQ_ONE	(1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO	(1u << 4)

/* Structured reply chunk types and flags. */
#define NBD_REPLY_FLAG_DONE	(1u << 0)
#define NBD_REPLY_TYPE_NONE	0
#define NBD_REPLY_TYPE_OFFSET_DATA 1
#define NBD_REPLY_TYPE_OFFSET_HOLE 2
#define NBD_REPLY_TYPE_BLOCK_STATUS 5
#define NBD_REPLY_TYPE_ERROR	(1u << 15 | 1)

/* Errors on the wire. */
#define NBD_EPERM	1
#define NBD_EIO		5
#define NBD_ENOMEM	12
#define NBD_EINVAL	22
#define NBD_ENOSPC	28
#define NBD_EOVERFLOW	75
#define NBD_ENOTSUP	95
#define NBD_ESHUTDOWN	108

/* base:allocation flags. */
#define NBD_STATE_HOLE	(1u << 0)
#define NBD_STATE_ZERO	(1u << 1)

#define NBD_META_ID_BASE_ALLOCATION 1

/* Sizes of fixed wire structures. */
#define NBD_OLD_HANDSHAKE_LEN	18	/* NBDMAGIC IHAVEOPT flags16 */
#define NBD_OPTION_HEADER_LEN	16	/* IHAVEOPT opt32 len32 */
#define NBD_OPTION_REPLY_LEN	20	/* magic64 opt32 type32 len32 */
#define NBD_REQUEST_LEN		28
#define NBD_SIMPLE_REPLY_LEN	16
#define NBD_CHUNK_HEADER_LEN	20
#define NBD_MAX_OPTION_LEN	(64u << 10)	/* we never need more */
#define NBD_MAX_STRING		4096		/* export names, context names */

struct nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
};

struct nbd_option_header {
	uint32_t option;
	uint32_t length;
};

/* Big-endian helpers. */
static inline uint16_t nbd_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nbd_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t nbd_get64(const uint8_t *p)
{
	return (uint64_t)nbd_get32(p) << 32 | nbd_get32(p + 4);
}

static inline void nbd_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static inline void nbd_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void nbd_put64(uint8_t *p, uint64_t v)
{
	nbd_put32(p, v >> 32);
	nbd_put32(p + 4, (uint32_t)v);
}

/* Returns false when the magic is wrong. */
bool nbd_decode_request(const uint8_t buf[NBD_REQUEST_LEN], struct nbd_request *req);
void nbd_encode_request(uint8_t buf[NBD_REQUEST_LEN], const struct nbd_request *req);

/* Returns false when the magic is not IHAVEOPT. */
bool nbd_decode_option_header(const uint8_t buf[NBD_OPTION_HEADER_LEN],
			      struct nbd_option_header *hdr);

void nbd_encode_initial_handshake(uint8_t buf[NBD_OLD_HANDSHAKE_LEN], uint16_t flags);
void nbd_encode_option_reply(uint8_t buf[NBD_OPTION_REPLY_LEN], uint32_t option,
			     uint32_t type, uint32_t length);
void nbd_encode_simple_reply(uint8_t buf[NBD_SIMPLE_REPLY_LEN], uint32_t error,
			     uint64_t cookie);
void nbd_encode_chunk_header(uint8_t buf[NBD_CHUNK_HEADER_LEN], uint16_t flags,
			     uint16_t type, uint64_t cookie, uint32_t length);

/* errno value -> NBD wire error, mapping anything unknown to EIO. */
uint32_t nbd_errno_to_wire(int err);

/* Validates a command against the export: returns 0 or the NBD error to send.
 * Pure, so the unit tests cover every rejection path. */
struct nbd_export_limits {
	uint64_t size;
	uint32_t block_min;		/* offsets and lengths must be multiples */
	uint32_t block_max;
	uint16_t eflags;		/* transmission flags advertised */
	bool structured;		/* structured replies negotiated */
	bool meta_base_allocation;	/* base:allocation selected */
};

uint32_t nbd_check_request(const struct nbd_request *req,
			   const struct nbd_export_limits *lim);

#endif
