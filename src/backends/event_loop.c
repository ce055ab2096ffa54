/* See event_loop.h. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "event_loop.h"
#include "lib/error.h"

struct cb_event_loop {
	struct cb_event_source src;
	struct cb_io *queue;		/* pushed last first; shared */
	int wake;			/* eventfd */
	bool stopping;
	pthread_t thread;
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void cb_event_loop_submit(struct cb_event_loop *l, struct cb_io *io)
{
	struct cb_io *head = __atomic_load_n(&l->queue, __ATOMIC_RELAXED);
	uint64_t one = 1;

	do
		io->next = head;
	while (!__atomic_compare_exchange_n(&l->queue, &head, io, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
	/* The loop takes the whole queue at once: only the first request of
	 * a batch needs to wake it. */
	if (!head && write(l->wake, &one, sizeof one) != sizeof one)
		abort();	/* an eventfd write fails only on overflow */
}

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

static void *run(void *arg)
{
	struct cb_event_loop *l = arg;
	uint64_t next_tick = now_ms() + l->src.tick_ms, counter;

	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE)) {
		struct pollfd p[1 + CB_EVENT_LOOP_MAX_FDS] = { { .fd = l->wake, .events = POLLIN } };
		uint64_t now;
		int n, i;

		submit_queued(l);
		n = l->src.poll_fds(l->src.ctx, p + 1);
		now = now_ms();
		poll(p, (nfds_t)n + 1, next_tick > now ? (int)(next_tick - now) : 0);
		if (p[0].revents && read(l->wake, &counter, sizeof counter) < 0 && errno != EAGAIN)
			abort();
		for (i = 1; i <= n && !p[i].revents; i++)
			;
		if (i <= n)
			l->src.service(l->src.ctx, p + 1, n);
		if (now_ms() >= next_tick) {
			if (l->src.tick)
				l->src.tick(l->src.ctx);
			next_tick = now_ms() + l->src.tick_ms;
		}
	}
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
	err = pthread_create(&l->thread, NULL, run, l);
	if (err) {
		cb_set_error_errno(err, "cannot start an event loop thread");
		close(l->wake);
		free(l);
		return NULL;
	}
	return l;
}

void cb_event_loop_stop(struct cb_event_loop *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	__atomic_store_n(&l->stopping, true, __ATOMIC_RELEASE);
	if (write(l->wake, &one, sizeof one) != sizeof one)
		abort();
	pthread_join(l->thread, NULL);
	close(l->wake);
	free(l);
}
