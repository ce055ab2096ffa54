/* The fixed newstyle handshake: option haggling up to EXPORT_NAME or GO. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lib/log.h"

#define BASE_ALLOCATION "base:allocation"

/* Why the option loop ended, or that it goes on. */
enum opt_result { OPT_CONTINUE, OPT_TRANSMIT, OPT_CLOSE };

static bool send_reply(struct nbd_conn *c, uint32_t opt, uint32_t type,
		       const void *payload, uint32_t len)
{
	uint8_t hdr[NBD_OPTION_REPLY_LEN];

	nbd_encode_option_reply(hdr, opt, type, len);
	return nbd_write_full(c->fd, hdr, sizeof hdr) &&
	       (len == 0 || nbd_write_full(c->fd, payload, len));
}

static bool send_error(struct nbd_conn *c, uint32_t opt, uint32_t type, const char *why)
{
	cb_log(CB_LOG_DEBUG, "client %s: option %u refused: %s", c->peer, opt, why);
	return send_reply(c, opt, type, why, strlen(why));
}

static bool name_matches(const struct nbd_server *s, const char *name, uint32_t len)
{
	return !s->export_name ||
	       (strlen(s->export_name) == len && memcmp(s->export_name, name, len) == 0);
}

/* A client that asked for NBD_INFO_BLOCK_SIZE in its NBD_OPT_GO must keep
 * to the maximum advertised (proto.md, "Size constraints"); one that did
 * not may send what the reference server and nbdkit take. */
static void settle_limits(struct nbd_conn *c, bool block_size_agreed)
{
	const struct nbd_server *s = c->srv;

	nbd_session_settle(&c->session, s, false, s->backend->caps.block_min,
			   block_size_agreed ? nbd_advertised_max(s) : NBD_SERVER_MAX_PAYLOAD);
}

static enum opt_result opt_export_name(struct nbd_conn *c, const uint8_t *data, uint32_t len,
				       bool no_zeroes)
{
	uint8_t reply[8 + 2 + 124] = { 0 };

	if (!name_matches(c->srv, (const char *)data, len)) {
		cb_log(CB_LOG_INFO, "client %s asked for an unknown export", c->peer);
		return OPT_CLOSE;	/* the protocol has no way to say why */
	}
	settle_limits(c, false);
	nbd_put64(reply, c->session.lim.size);
	nbd_put16(reply + 8, c->session.lim.eflags);
	if (!nbd_write_full(c->fd, reply, no_zeroes ? 10 : sizeof reply))
		return OPT_CLOSE;
	return OPT_TRANSMIT;
}

static enum opt_result opt_list(struct nbd_conn *c, uint32_t len)
{
	const char *name = c->srv->export_name ? c->srv->export_name : "";
	uint32_t nlen = strlen(name);
	uint8_t *payload;
	bool ok;

	if (len)
		return send_error(c, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
				  "NBD_OPT_LIST takes no data") ? OPT_CONTINUE : OPT_CLOSE;
	payload = malloc(4 + nlen);
	if (!payload)
		return OPT_CLOSE;
	nbd_put32(payload, nlen);
	memcpy(payload + 4, name, nlen);
	ok = send_reply(c, NBD_OPT_LIST, NBD_REP_SERVER, payload, 4 + nlen) &&
	     send_reply(c, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
	free(payload);
	return ok ? OPT_CONTINUE : OPT_CLOSE;
}

static bool send_info(struct nbd_conn *c, uint32_t opt, uint16_t type,
		      const void *body, uint32_t blen)
{
	uint8_t buf[2 + NBD_MAX_STRING];

	if (blen > NBD_MAX_STRING)
		blen = NBD_MAX_STRING;
	nbd_put16(buf, type);
	memcpy(buf + 2, body, blen);
	return send_reply(c, opt, NBD_REP_INFO, buf, 2 + blen);
}

static bool send_infos(struct nbd_conn *c, uint32_t opt, const uint8_t *req, uint16_t nreq)
{
	const struct nbd_export_limits *lim = &c->session.lim;
	const char *desc = c->srv->description;
	const char *name = c->srv->export_name ? c->srv->export_name : "";
	uint8_t export[10], bs[12];

	nbd_put64(export, lim->size);
	nbd_put16(export + 8, lim->eflags);
	nbd_put32(bs, lim->block_min);
	nbd_put32(bs + 4, c->srv->backend->caps.block_pref);
	nbd_put32(bs + 8, nbd_advertised_max(c->srv));
	if (!send_info(c, opt, NBD_INFO_EXPORT, export, sizeof export) ||
	    !send_info(c, opt, NBD_INFO_BLOCK_SIZE, bs, sizeof bs))
		return false;
	for (uint16_t i = 0; i < nreq; i++) {
		uint16_t type = nbd_get16(req + 2 * i);
		bool ok = true;

		if (type == NBD_INFO_NAME)
			ok = send_info(c, opt, NBD_INFO_NAME, name, strlen(name));
		else if (type == NBD_INFO_DESCRIPTION && desc)
			ok = send_info(c, opt, NBD_INFO_DESCRIPTION, desc, strlen(desc));
		if (!ok)
			return false;
	}
	return true;
}

static bool asks_info(const uint8_t *req, uint16_t nreq, uint16_t type)
{
	for (uint16_t i = 0; i < nreq; i++)
		if (nbd_get16(req + 2 * i) == type)
			return true;
	return false;
}

static enum opt_result opt_info_go(struct nbd_conn *c, uint32_t opt,
				   const uint8_t *data, uint32_t len)
{
	const uint8_t *req;
	uint32_t nlen;
	uint16_t nreq;

	if (len < 6 || (nlen = nbd_get32(data)) > len - 6 ||
	    len != 4 + nlen + 2 + 2u * (nreq = nbd_get16(data + 4 + nlen)))
		return send_error(c, opt, NBD_REP_ERR_INVALID, "malformed NBD_OPT_INFO/GO")
			? OPT_CONTINUE : OPT_CLOSE;
	if (!name_matches(c->srv, (const char *)data + 4, nlen))
		return send_error(c, opt, NBD_REP_ERR_UNKNOWN, "no such export")
			? OPT_CONTINUE : OPT_CLOSE;
	req = data + 4 + nlen + 2;
	settle_limits(c, opt == NBD_OPT_GO && asks_info(req, nreq, NBD_INFO_BLOCK_SIZE));
	if (!send_infos(c, opt, req, nreq) ||
	    !send_reply(c, opt, NBD_REP_ACK, NULL, 0))
		return OPT_CLOSE;
	return opt == NBD_OPT_GO ? OPT_TRANSMIT : OPT_CONTINUE;
}

static bool query_selects_base_allocation(const uint8_t *q, uint32_t qlen)
{
	static const char base[] = "base:";

	return (qlen == strlen(base) && memcmp(q, base, qlen) == 0) ||
	       (qlen == strlen(BASE_ALLOCATION) && memcmp(q, BASE_ALLOCATION, qlen) == 0);
}

/* Parses a LIST/SET_META_CONTEXT payload.  Returns -1 if malformed, else
 * whether base:allocation is selected (an empty LIST selects everything). */
static int parse_meta_queries(const struct nbd_conn *c, uint32_t opt,
			      const uint8_t *data, uint32_t len, bool *name_ok)
{
	uint32_t nlen, nq, pos;
	bool selected = false;

	if (len < 8 || (nlen = nbd_get32(data)) > len - 8)
		return -1;
	*name_ok = name_matches(c->srv, (const char *)data + 4, nlen);
	pos = 4 + nlen;
	nq = nbd_get32(data + pos);
	pos += 4;
	for (uint32_t i = 0; i < nq; i++) {
		uint32_t qlen;

		if (len - pos < 4 || (qlen = nbd_get32(data + pos)) > len - pos - 4)
			return -1;
		if (query_selects_base_allocation(data + pos + 4, qlen))
			selected = true;
		pos += 4 + qlen;
	}
	if (pos != len)
		return -1;
	if (nq == 0 && opt == NBD_OPT_LIST_META_CONTEXT)
		selected = true;
	return selected;
}

static enum opt_result opt_meta_context(struct nbd_conn *c, uint32_t opt,
					const uint8_t *data, uint32_t len)
{
	uint8_t reply[4 + sizeof BASE_ALLOCATION];
	bool name_ok = false;
	int selected;

	if (!c->session.structured)
		return send_error(c, opt, NBD_REP_ERR_INVALID,
				  "negotiate structured replies first")
			? OPT_CONTINUE : OPT_CLOSE;
	selected = parse_meta_queries(c, opt, data, len, &name_ok);
	if (selected < 0)
		return send_error(c, opt, NBD_REP_ERR_INVALID, "malformed meta context request")
			? OPT_CONTINUE : OPT_CLOSE;
	if (!name_ok)
		return send_error(c, opt, NBD_REP_ERR_UNKNOWN, "no such export")
			? OPT_CONTINUE : OPT_CLOSE;
	if (opt == NBD_OPT_SET_META_CONTEXT)
		c->session.meta_base_allocation = selected;
	if (selected) {
		nbd_put32(reply, NBD_META_ID_BASE_ALLOCATION);
		memcpy(reply + 4, BASE_ALLOCATION, strlen(BASE_ALLOCATION));
		if (!send_reply(c, opt, NBD_REP_META_CONTEXT, reply,
				4 + strlen(BASE_ALLOCATION)))
			return OPT_CLOSE;
	}
	return send_reply(c, opt, NBD_REP_ACK, NULL, 0) ? OPT_CONTINUE : OPT_CLOSE;
}

static enum opt_result handle_option(struct nbd_conn *c, uint32_t opt,
				     const uint8_t *data, uint32_t len, bool no_zeroes)
{
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(c, data, len, no_zeroes);
	case NBD_OPT_ABORT:
		send_reply(c, opt, NBD_REP_ACK, NULL, 0);
		return OPT_CLOSE;
	case NBD_OPT_LIST:
		return opt_list(c, len);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(c, opt, data, len);
	case NBD_OPT_STRUCTURED_REPLY:
		if (len)
			return send_error(c, opt, NBD_REP_ERR_INVALID, "takes no data")
				? OPT_CONTINUE : OPT_CLOSE;
		c->session.structured = true;
		return send_reply(c, opt, NBD_REP_ACK, NULL, 0) ? OPT_CONTINUE : OPT_CLOSE;
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta_context(c, opt, data, len);
	default:
		return send_error(c, opt, NBD_REP_ERR_UNSUP, "option not supported")
			? OPT_CONTINUE : OPT_CLOSE;
	}
}

/* Reads and answers options until the client starts transmission. */
static bool option_loop(struct nbd_conn *c, bool no_zeroes)
{
	uint8_t *data = malloc(NBD_MAX_OPTION_LEN);
	enum opt_result r = OPT_CLOSE;

	while (data) {
		uint8_t hdr[NBD_OPTION_HEADER_LEN];
		struct nbd_option_header oh;

		if (!nbd_read_full(c->fd, hdr, sizeof hdr))
			break;
		if (!nbd_decode_option_header(hdr, &oh)) {
			cb_log(CB_LOG_INFO, "client %s: bad option magic, disconnecting", c->peer);
			break;
		}
		if (oh.length > NBD_MAX_OPTION_LEN) {
			cb_log(CB_LOG_INFO, "client %s: option %u of %u bytes is too large, "
			       "disconnecting", c->peer, oh.option, oh.length);
			break;
		}
		if (!nbd_read_full(c->fd, data, oh.length))
			break;
		r = handle_option(c, oh.option, data, oh.length, no_zeroes);
		if (r != OPT_CONTINUE)
			break;
	}
	free(data);
	return r == OPT_TRANSMIT;
}

bool nbd_handshake(struct nbd_conn *c)
{
	uint8_t greeting[NBD_OLD_HANDSHAKE_LEN], cflags_buf[4];
	uint32_t cflags;

	nbd_encode_initial_handshake(greeting, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	if (!nbd_write_full(c->fd, greeting, sizeof greeting) ||
	    !nbd_read_full(c->fd, cflags_buf, sizeof cflags_buf))
		return false;
	cflags = nbd_get32(cflags_buf);
	if (cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
		cb_log(CB_LOG_INFO, "client %s: unknown client flags 0x%x", c->peer, cflags);
		return false;
	}
	return option_loop(c, cflags & NBD_FLAG_C_NO_ZEROES);
}
