#include <config.h>

#include <errno.h>

#include "wire.h"

bool nbd_decode_request(const uint8_t buf[NBD_REQUEST_LEN], struct nbd_request *req)
{
	if (nbd_get32(buf) != NBD_REQUEST_MAGIC)
		return false;
	req->flags = nbd_get16(buf + 4);
	req->type = nbd_get16(buf + 6);
	req->cookie = nbd_get64(buf + 8);
	req->offset = nbd_get64(buf + 16);
	req->length = nbd_get32(buf + 24);
	return true;
}

void nbd_encode_request(uint8_t buf[NBD_REQUEST_LEN], const struct nbd_request *req)
{
	nbd_put32(buf, NBD_REQUEST_MAGIC);
	nbd_put16(buf + 4, req->flags);
	nbd_put16(buf + 6, req->type);
	nbd_put64(buf + 8, req->cookie);
	nbd_put64(buf + 16, req->offset);
	nbd_put32(buf + 24, req->length);
}

bool nbd_decode_option_header(const uint8_t buf[NBD_OPTION_HEADER_LEN],
			      struct nbd_option_header *hdr)
{
	if (nbd_get64(buf) != NBD_IHAVEOPT)
		return false;
	hdr->option = nbd_get32(buf + 8);
	hdr->length = nbd_get32(buf + 12);
	return true;
}

void nbd_encode_initial_handshake(uint8_t buf[NBD_OLD_HANDSHAKE_LEN], uint16_t flags)
{
	nbd_put64(buf, NBD_MAGIC);
	nbd_put64(buf + 8, NBD_IHAVEOPT);
	nbd_put16(buf + 16, flags);
}

void nbd_encode_option_reply(uint8_t buf[NBD_OPTION_REPLY_LEN], uint32_t option,
			     uint32_t type, uint32_t length)
{
	nbd_put64(buf, NBD_REP_MAGIC);
	nbd_put32(buf + 8, option);
	nbd_put32(buf + 12, type);
	nbd_put32(buf + 16, length);
}

void nbd_encode_simple_reply(uint8_t buf[NBD_SIMPLE_REPLY_LEN], uint32_t error,
			     uint64_t cookie)
{
	nbd_put32(buf, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(buf + 4, error);
	nbd_put64(buf + 8, cookie);
}

void nbd_encode_chunk_header(uint8_t buf[NBD_CHUNK_HEADER_LEN], uint16_t flags,
			     uint16_t type, uint64_t cookie, uint32_t length)
{
	nbd_put32(buf, NBD_STRUCTURED_REPLY_MAGIC);
	nbd_put16(buf + 4, flags);
	nbd_put16(buf + 6, type);
	nbd_put64(buf + 8, cookie);
	nbd_put32(buf + 16, length);
}

uint32_t nbd_errno_to_wire(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
	case EOPNOTSUPP:
#endif
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

/* The flags each command may carry, given what was advertised. */
static uint16_t allowed_flags(uint16_t type, const struct nbd_export_limits *lim)
{
	uint16_t fua = lim->eflags & NBD_FLAG_SEND_FUA ? NBD_CMD_FLAG_FUA : 0;

	switch (type) {
	case NBD_CMD_READ:
		return lim->structured ? NBD_CMD_FLAG_DF : 0;
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
		return fua;
	case NBD_CMD_WRITE_ZEROES:
		return fua | NBD_CMD_FLAG_NO_HOLE |
		       (lim->eflags & NBD_FLAG_SEND_FAST_ZERO ? NBD_CMD_FLAG_FAST_ZERO : 0);
	case NBD_CMD_BLOCK_STATUS:
		return NBD_CMD_FLAG_REQ_ONE;
	default:
		return 0;
	}
}

static bool command_advertised(uint16_t type, uint16_t eflags)
{
	switch (type) {
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
	case NBD_CMD_DISC:
	case NBD_CMD_BLOCK_STATUS:
		return true;
	case NBD_CMD_FLUSH:
		return eflags & NBD_FLAG_SEND_FLUSH;
	case NBD_CMD_TRIM:
		return eflags & NBD_FLAG_SEND_TRIM;
	case NBD_CMD_CACHE:
		return eflags & NBD_FLAG_SEND_CACHE;
	case NBD_CMD_WRITE_ZEROES:
		return eflags & NBD_FLAG_SEND_WRITE_ZEROES;
	default:
		return false;
	}
}

static bool modifies(uint16_t type)
{
	return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM ||
	       type == NBD_CMD_WRITE_ZEROES;
}

static bool has_range(uint16_t type)
{
	return type != NBD_CMD_FLUSH && type != NBD_CMD_DISC;
}

uint32_t nbd_check_request(const struct nbd_request *req,
			   const struct nbd_export_limits *lim)
{
	uint64_t size;

	if (!command_advertised(req->type, lim->eflags))
		return NBD_EINVAL;
	if (req->flags & ~allowed_flags(req->type, lim))
		return NBD_EINVAL;
	if (modifies(req->type) && (lim->eflags & NBD_FLAG_READ_ONLY))
		return NBD_EPERM;
	if (!has_range(req->type))
		return req->offset || req->length ? NBD_EINVAL : 0;
	if (req->type == NBD_CMD_BLOCK_STATUS &&
	    (!lim->meta_base_allocation || req->length == 0))
		return NBD_EINVAL;
	if ((req->type == NBD_CMD_READ || req->type == NBD_CMD_WRITE) &&
	    req->length > lim->block_max)
		return NBD_EINVAL;
	/* The size grows while connections run (nbd_server_grow). */
	size = __atomic_load_n(&lim->size, __ATOMIC_RELAXED);
	if (req->offset > size || req->length > size - req->offset)
		return req->type == NBD_CMD_WRITE ? NBD_ENOSPC : NBD_EINVAL;
	if (lim->block_min > 1 && req->type != NBD_CMD_BLOCK_STATUS &&
	    req->type != NBD_CMD_CACHE &&
	    (req->offset % lim->block_min || req->length % lim->block_min))
		return NBD_EINVAL;
	return 0;
}
