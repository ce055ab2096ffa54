/* One thread that drives a library whose I/O runs on descriptors of its
 * own (libnfs; libiscsi, one per path): it polls them for the events the
 * library asks for, services them, and ticks the library periodically for
 * its timeouts and reconnects.  Such a library context is not thread-safe:
 * one lock keeps it to one thread at a time.  Requests from the NBD and
 * FUSE threads are queued (lock-free) and the loop takes the queue, one
 * eventfd wake-up per batch, serviced once.  A request with nothing else
 * in flight (a client waiting on each reply) that finds the loop asleep in
 * poll() is sent by its own thread, under the lock: there the wake-up is
 * much of its latency, while at depth, servicing once per request costs
 * more than the wake-ups it saves (libnfs scans all its pending replies
 * on each call).  Better still, a thread that would only sleep waiting for
 * its completions can poll the library's descriptors itself (a driver,
 * cb_event_loop_poll): then its requests and their completions never
 * change threads at all, as in a single-threaded server.
 */
#ifndef CB_EVENT_LOOP_H
#define CB_EVENT_LOOP_H

#include <poll.h>

#include "backend.h"

/* The most descriptors one source waits on at once. */
#define CB_EVENT_LOOP_MAX_FDS 16
/* The most of a driver's own in cb_event_loop_poll(). */
#define CB_EVENT_LOOP_MAX_CALLER_FDS 4

/* What the loop drives.  Every callback runs with the loop's lock held, on
 * the loop's thread or on a thread in cb_event_loop_submit(): so do the
 * requests' completions. */
struct cb_event_source {
	void *ctx;
	/* Fills p[0..n) with the descriptors to wait on now and the events
	 * (POLLIN|POLLOUT) of each, at most CB_EVENT_LOOP_MAX_FDS; returns n. */
	int (*poll_fds)(void *ctx, struct pollfd *p);
	/* The same p and n, with revents set: every entry is passed, as a
	 * library may have work to do without events. */
	void (*service)(void *ctx, struct pollfd *p, int n);
	void (*submit)(void *ctx, struct cb_io *io);
	void (*tick)(void *ctx);		/* every tick_ms; may be NULL */
	unsigned tick_ms;
};

struct cb_event_loop;

/* NULL with the error set. */
struct cb_event_loop *cb_event_loop_start(const struct cb_event_source *src);
/* From any thread: src->submit(io) runs soon, in the order of the calls
 * of each thread.  io->next is the loop's until then.  alone: nothing else
 * of the source is in flight, so it may run before this returns, on this
 * thread (never from a source's callback: then it is only queued). */
void cb_event_loop_submit(struct cb_event_loop *l, struct cb_io *io, bool alone);
/*
 * poll(2) on fds for a thread that has nothing to do until one of them is
 * ready (an NBD connection waiting for its client or its completions),
 * which meanwhile drives the source itself: it waits on the source's
 * descriptors too, services them and submits the queue, so completions
 * run on it and neither it nor the loop's thread is woken to hand work to
 * the other.  One such driver at a time (the first to call); other threads
 * just poll.  While a driver is in charge the loop's thread only watches
 * it: a driver that has not been back in here for a tick (blocked on a
 * slow client, say) loses the source to the loop's thread until its next
 * call.  n is at most CB_EVENT_LOOP_MAX_CALLER_FDS.
 */
int cb_event_loop_poll(struct cb_event_loop *l, struct pollfd *fds, int n, int timeout_ms);
/* The calling thread will not call cb_event_loop_poll() again soon: if it
 * drives the source, the loop's thread takes it back now. */
void cb_event_loop_leave(struct cb_event_loop *l);
/* Stops the thread and waits for it; requests still queued are never
 * submitted, so the source drains its own first. */
void cb_event_loop_stop(struct cb_event_loop *l);

#endif
