/* See zero_fill.h. */
#include <config.h>

#include "zero_fill.h"

static _Alignas(4096) const char zeroes[CB_ZERO_FILL_CHUNK];

int cb_zero_fill(cb_zero_write_fn write, void *opaque, uint64_t off, uint64_t len)
{
	while (len) {
		uint32_t n = len < sizeof zeroes ? len : sizeof zeroes;
		int err = write(opaque, zeroes, n, off);

		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}
