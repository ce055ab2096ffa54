/* See event_loop.h. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "event_loop.h"
#include "lib/clock.h"
#include "lib/error.h"

struct cb_event_loop {
	struct cb_event_source src;
	struct cb_io *queue;		/* pushed last first; shared */
	int wake;			/* eventfd */
	bool stopping;
	/* The library's: whoever holds it may call the source.  The loop
	 * holds it except while it waits in poll(). */
	pthread_mutex_t lock;
	/* What the loop waits on (under lock). */
	struct pollfd waits_on[CB_EVENT_LOOP_MAX_FDS];
	int n_waits_on;
	unsigned inline_runs;		/* submit_inline() calls, under lock */
	pthread_t thread;
};

/* The queue, oldest first. */
static struct cb_io *take_queue(struct cb_event_loop *l)
{
	struct cb_io *io = __atomic_exchange_n(&l->queue, NULL, __ATOMIC_ACQUIRE), *fifo = NULL;

	while (io) {
		struct cb_io *next = io->next;

		io->next = fifo;
		fifo = io;
		io = next;
	}
	return fifo;
}

static void submit_queued(struct cb_event_loop *l)
{
	struct cb_io *io = take_queue(l);

	while (io) {
		struct cb_io *next = io->next;

		l->src.submit(l->src.ctx, io);
		io = next;
	}
}

static void wake_loop(struct cb_event_loop *l)
{
	uint64_t one = 1;

	if (write(l->wake, &one, sizeof one) != sizeof one)
		abort();	/* an eventfd write fails only on overflow */
}

static bool same_fds(const struct pollfd *a, int na, const struct pollfd *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (a[i].fd != b[i].fd || a[i].events != b[i].events)
			return false;
	return true;
}

/* On a submitting thread, with the lock, while the loop waits in poll():
 * the requests go out now, and the loop is woken only if it must wait on
 * something else (a request that did not fit in the socket, say).  The
 * descriptors are serviced only as far as poll() says they are ready: a
 * socket still connecting must not look writable. */
static void submit_inline(struct cb_event_loop *l)
{
	struct pollfd p[CB_EVENT_LOOP_MAX_FDS] = { { 0 } };
	int n;

	l->inline_runs++;
	submit_queued(l);
	n = l->src.poll_fds(l->src.ctx, p);
	if (n > 0 && poll(p, (nfds_t)n, 0) > 0)
		l->src.service(l->src.ctx, p, n);
	memset(p, 0, sizeof p);
	n = l->src.poll_fds(l->src.ctx, p);
	if (!same_fds(p, n, l->waits_on, l->n_waits_on))
		wake_loop(l);
}

void cb_event_loop_submit(struct cb_event_loop *l, struct cb_io *io, bool alone)
{
	struct cb_io *head = __atomic_load_n(&l->queue, __ATOMIC_RELAXED);

	do
		io->next = head;
	while (!__atomic_compare_exchange_n(&l->queue, &head, io, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
	/* The loop takes the whole queue at once: only the first request of
	 * a batch needs to wake it. */
	if (alone && pthread_mutex_trylock(&l->lock) == 0) {
		submit_inline(l);
		pthread_mutex_unlock(&l->lock);
	} else if (!head) {
		wake_loop(l);
	}
}

static void *run(void *arg)
{
	struct cb_event_loop *l = arg;
	uint64_t next_tick = cb_now_ms() + l->src.tick_ms, counter;

	pthread_mutex_lock(&l->lock);
	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE)) {
		struct pollfd p[1 + CB_EVENT_LOOP_MAX_FDS] = { { .fd = l->wake, .events = POLLIN } };
		uint64_t now;
		unsigned runs;
		int n, i;

		submit_queued(l);
		n = l->src.poll_fds(l->src.ctx, p + 1);
		memcpy(l->waits_on, p + 1, (size_t)n * sizeof *p);
		l->n_waits_on = n;
		now = cb_now_ms();
		runs = l->inline_runs;
		pthread_mutex_unlock(&l->lock);
		poll(p, (nfds_t)n + 1, next_tick > now ? (int)(next_tick - now) : 0);
		pthread_mutex_lock(&l->lock);
		if (p[0].revents && read(l->wake, &counter, sizeof counter) < 0 && errno != EAGAIN)
			abort();
		for (i = 1; i <= n && !p[i].revents; i++)
			;
		/* A submitter serviced the library meanwhile: these events may
		 * be stale, or of descriptors since closed or reused.  They are
		 * level-triggered: the next poll() shows what still holds. */
		if (i <= n && runs == l->inline_runs)
			l->src.service(l->src.ctx, p + 1, n);
		if (cb_now_ms() >= next_tick) {
			if (l->src.tick)
				l->src.tick(l->src.ctx);
			next_tick = cb_now_ms() + l->src.tick_ms;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct cb_event_loop *cb_event_loop_start(const struct cb_event_source *src)
{
	struct cb_event_loop *l = calloc(1, sizeof *l);
	int err;

	if (!l) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	l->src = *src;
	if (!l->src.tick_ms)
		l->src.tick_ms = 1000;
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake == -1) {
		cb_set_error_errno(errno, "eventfd");
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	err = pthread_create(&l->thread, NULL, run, l);
	if (err) {
		cb_set_error_errno(err, "cannot start an event loop thread");
		pthread_mutex_destroy(&l->lock);
		close(l->wake);
		free(l);
		return NULL;
	}
	return l;
}

void cb_event_loop_stop(struct cb_event_loop *l)
{
	if (!l)
		return;
	__atomic_store_n(&l->stopping, true, __ATOMIC_RELEASE);
	wake_loop(l);
	pthread_join(l->thread, NULL);
	pthread_mutex_destroy(&l->lock);
	close(l->wake);
	free(l);
}
