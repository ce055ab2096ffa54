/* A fixed set of threads that run blocking I/O for synchronous backends.
 *
 * Requests are queued through the intrusive cb_io.next link, so queueing
 * never allocates.
 */
#ifndef CB_IO_POOL_H
#define CB_IO_POOL_H

#include "backend.h"

struct io_pool;

typedef void (*io_pool_run_fn)(void *ctx, struct cb_io *io);

struct io_pool *io_pool_new(unsigned nthreads, io_pool_run_fn run, void *ctx);
void io_pool_push(struct io_pool *pool, struct cb_io *io);
/* Runs everything still queued, then joins the threads. */
void io_pool_free(struct io_pool *pool);

#endif
