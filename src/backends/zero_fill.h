/* Writing zeroes for real, where a device or backend cannot zero a range by
 * itself: the one emulation of write-zeroes, for every caller.
 *
 * It is synchronous and takes the caller's own write function rather than
 * submitting CB_IO_WRITE: the file backend fills from inside its own I/O
 * pool, where waiting on that pool for its own writes could deadlock it.
 * Nor does backend.c emulate CB_IO_WRITE_ZEROES for backends without
 * can_zero: that would take a state object and a chain of completions per
 * request, for no backend of today (file and rbd both zero natively), and
 * the NBD server already leaves write-zeroes to the client when can_zero is
 * clear.
 */
#ifndef CB_ZERO_FILL_H
#define CB_ZERO_FILL_H

#include <stdint.h>

/* The size of each write: a multiple of any logical block size up to
 * 64 KiB, from a buffer aligned to 4096 bytes, so O_DIRECT takes it. */
#define CB_ZERO_FILL_CHUNK (64u << 10)

/* Writes len bytes of buf at off; returns 0 or a positive errno value. */
typedef int (*cb_zero_write_fn)(void *opaque, const void *buf, uint32_t len, uint64_t off);

/* Writes zeroes over [off, off+len) with write, in chunks of at most
 * CB_ZERO_FILL_CHUNK; returns 0 or the first error write returned. */
int cb_zero_fill(cb_zero_write_fn write, void *opaque, uint64_t off, uint64_t len);

#endif
