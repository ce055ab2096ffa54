/* What a client is promised for the transmission phase, the same whether
 * it was negotiated in the handshake or told out of band: the export's
 * transmission flags and the limits its requests are checked against. */
#include <config.h>

#include "internal.h"

uint32_t nbd_advertised_max(const struct nbd_server *s)
{
	uint32_t backend_max = s->backend->caps.block_max;

	return backend_max < NBD_ADVERTISED_MAX ? backend_max : NBD_ADVERTISED_MAX;
}

uint16_t nbd_export_flags(const struct nbd_server *s, bool read_only, bool structured)
{
	const struct cb_backend_caps *caps = &s->backend->caps;
	uint16_t f = NBD_FLAG_HAS_FLAGS;

	read_only = read_only || s->read_only;
	if (read_only) {
		f |= NBD_FLAG_READ_ONLY;
	} else {
		if (caps->can_fua)
			f |= NBD_FLAG_SEND_FUA;
		if (caps->can_trim)
			f |= NBD_FLAG_SEND_TRIM;
		if (caps->can_zero)
			f |= NBD_FLAG_SEND_WRITE_ZEROES;
		if (caps->can_zero && caps->can_fast_zero)
			f |= NBD_FLAG_SEND_FAST_ZERO;
	}
	if (caps->can_flush)
		f |= NBD_FLAG_SEND_FLUSH;
	if (caps->can_cache)
		f |= NBD_FLAG_SEND_CACHE;
	if (caps->rotational)
		f |= NBD_FLAG_ROTATIONAL;
	/* A read-only export is coherent across connections by definition. */
	if (caps->multi_conn || read_only)
		f |= NBD_FLAG_CAN_MULTI_CONN;
	/* Reads are always one chunk, so "don't fragment" is free to honour. */
	if (structured)
		f |= NBD_FLAG_SEND_DF;
	return f;
}

void nbd_session_settle(struct nbd_session *ses, const struct nbd_server *s, bool read_only,
			uint32_t block_min, uint32_t block_max)
{
	struct nbd_export_limits *lim = &ses->lim;

	lim->size = cb_backend_size(s->backend);
	lim->block_min = block_min;
	lim->block_max = block_max;
	lim->eflags = nbd_export_flags(s, read_only, ses->structured);
	lim->structured = ses->structured;
	lim->meta_base_allocation = ses->meta_base_allocation;
}
