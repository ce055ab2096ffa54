/* One thread that drives a library whose I/O runs on a descriptor of its
 * own (libnfs; libiscsi next): it polls that descriptor for the events the
 * library asks for, services it, and ticks it periodically for its
 * timeouts and reconnects.  Such a library context is not thread-safe, so
 * requests from the NBD and FUSE threads are queued (lock-free, one
 * eventfd wake-up per batch) and handed to it on this thread only.
 */
#ifndef CB_EVENT_LOOP_H
#define CB_EVENT_LOOP_H

#include "backend.h"

/* What the loop drives; every callback runs on the loop's thread. */
struct cb_event_source {
	void *ctx;
	int (*fd)(void *ctx);			/* -1: none for now */
	int (*events)(void *ctx);		/* POLLIN|POLLOUT; 0: none for now */
	void (*service)(void *ctx, int revents);
	void (*submit)(void *ctx, struct cb_io *io);
	void (*tick)(void *ctx);		/* every tick_ms; may be NULL */
	unsigned tick_ms;
};

struct cb_event_loop;

/* NULL with the error set. */
struct cb_event_loop *cb_event_loop_start(const struct cb_event_source *src);
/* From any thread: src->submit(io) runs on the loop soon, in the order of
 * the calls of each thread.  io->next is the loop's until then. */
void cb_event_loop_submit(struct cb_event_loop *l, struct cb_io *io);
/* Stops the thread and waits for it; requests still queued are never
 * submitted, so the source drains its own first. */
void cb_event_loop_stop(struct cb_event_loop *l);

#endif
