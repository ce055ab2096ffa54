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
	int wake;			/* eventfd: the loop's thread */
	int driver_wake;		/* eventfd: the driver, while there is one */
	bool stopping;
	/* The library's: whoever holds it may call the source.  The loop
	 * holds it except while it waits in poll(), and so does a driver. */
	pthread_mutex_t lock;
	/* What the source's poller waits on (under lock). */
	struct pollfd waits_on[CB_EVENT_LOOP_MAX_FDS];
	int n_waits_on;
	/* Calls that may have changed the library's descriptors (services,
	 * ticks), under lock: a poller whose wait saw one since it began
	 * drops its events as stale. */
	unsigned services;
	uint64_t next_tick;		/* under lock */
	/* A thread of cb_event_loop_poll() polls the source instead of the
	 * loop's thread.  driven is written under lock, read also without. */
	bool driven;
	bool driver_in_poll;		/* under lock */
	unsigned driver_polls;		/* under lock: its calls, for the watch */
	pthread_t driver;		/* under lock, while driven */
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

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof one) != sizeof one)
		abort();	/* an eventfd write fails only on overflow */
}

static void drain_fd(int fd)
{
	uint64_t counter;

	if (read(fd, &counter, sizeof counter) < 0 && errno != EAGAIN)
		abort();
}

/* Whoever polls the source now: queued requests are for it to submit. */
static void wake_poller(struct cb_event_loop *l)
{
	signal_fd(__atomic_load_n(&l->driven, __ATOMIC_SEQ_CST) ? l->driver_wake : l->wake);
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

	l->services++;
	submit_queued(l);
	n = l->src.poll_fds(l->src.ctx, p);
	if (n > 0 && poll(p, (nfds_t)n, 0) > 0)
		l->src.service(l->src.ctx, p, n);
	memset(p, 0, sizeof p);
	n = l->src.poll_fds(l->src.ctx, p);
	if (!same_fds(p, n, l->waits_on, l->n_waits_on))
		wake_poller(l);
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
		wake_poller(l);
	}
}

/* Under lock: the source's descriptors into p, and what it waits on. */
static int prepare_wait(struct cb_event_loop *l, struct pollfd *p)
{
	int n;

	submit_queued(l);
	n = l->src.poll_fds(l->src.ctx, p);
	memcpy(l->waits_on, p, (size_t)n * sizeof *p);
	l->n_waits_on = n;
	return n;
}

static int until_tick(const struct cb_event_loop *l)
{
	uint64_t now = cb_now_ms();

	return l->next_tick > now ? (int)(l->next_tick - now) : 0;
}

/* Under lock, after a poll() that waited on the source's n descriptors in
 * p since services was runs. */
static void serve(struct cb_event_loop *l, struct pollfd *p, int n, unsigned runs)
{
	int i;

	for (i = 0; i < n && !p[i].revents; i++)
		;
	/* Another thread (a submitter, a driver, the loop's) serviced the
	 * library meanwhile: these events may be stale, or of descriptors
	 * since closed or reused.  They are level-triggered: the next poll()
	 * shows what still holds. */
	if (i < n && runs == l->services) {
		l->services++;
		l->src.service(l->src.ctx, p, n);
	}
	if (cb_now_ms() >= l->next_tick) {
		l->services++;
		if (l->src.tick)
			l->src.tick(l->src.ctx);
		l->next_tick = cb_now_ms() + l->src.tick_ms;
	}
}

/* Under lock, while a driver polls the source: waits a tick for a wake-up,
 * and takes the source back from a driver that has not polled since. */
static void watch_driver(struct cb_event_loop *l)
{
	struct pollfd p = { .fd = l->wake, .events = POLLIN };
	unsigned polls = l->driver_polls;

	pthread_mutex_unlock(&l->lock);
	poll(&p, 1, (int)l->src.tick_ms);
	pthread_mutex_lock(&l->lock);
	if (p.revents)
		drain_fd(l->wake);
	if (l->driven && !l->driver_in_poll && l->driver_polls == polls)
		__atomic_store_n(&l->driven, false, __ATOMIC_SEQ_CST);
}

static void *run(void *arg)
{
	struct cb_event_loop *l = arg;

	pthread_mutex_lock(&l->lock);
	l->next_tick = cb_now_ms() + l->src.tick_ms;
	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE)) {
		struct pollfd p[1 + CB_EVENT_LOOP_MAX_FDS] = { { .fd = l->wake, .events = POLLIN } };
		unsigned runs;
		int n, wait;

		if (l->driven) {
			watch_driver(l);
			continue;
		}
		n = prepare_wait(l, p + 1);
		runs = l->services;
		wait = until_tick(l);
		pthread_mutex_unlock(&l->lock);
		poll(p, (nfds_t)n + 1, wait);
		pthread_mutex_lock(&l->lock);
		if (p[0].revents)
			drain_fd(l->wake);
		serve(l, p + 1, n, runs);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Under lock: whether this thread drives the source now, claiming it when
 * nobody does (the loop's thread is then told to stand back). */
static bool claim(struct cb_event_loop *l)
{
	if (l->driven)
		return pthread_equal(l->driver, pthread_self());
	l->driver = pthread_self();
	__atomic_store_n(&l->driven, true, __ATOMIC_SEQ_CST);
	signal_fd(l->wake);
	return true;
}

int cb_event_loop_poll(struct cb_event_loop *l, struct pollfd *fds, int n, int timeout_ms)
{
	struct pollfd p[CB_EVENT_LOOP_MAX_CALLER_FDS + 1 + CB_EVENT_LOOP_MAX_FDS] = { { 0 } };
	struct pollfd *src_fds = p + n + 1;
	unsigned runs;
	int ns, wait, ready = 0;

	if (n > CB_EVENT_LOOP_MAX_CALLER_FDS)
		return poll(fds, (nfds_t)n, timeout_ms);
	pthread_mutex_lock(&l->lock);
	if (!claim(l)) {
		pthread_mutex_unlock(&l->lock);
		return poll(fds, (nfds_t)n, timeout_ms);
	}
	memcpy(p, fds, (size_t)n * sizeof *p);
	p[n] = (struct pollfd){ .fd = l->driver_wake, .events = POLLIN };
	ns = prepare_wait(l, src_fds);
	runs = l->services;
	wait = until_tick(l);
	if (timeout_ms >= 0 && timeout_ms < wait)
		wait = timeout_ms;
	l->driver_polls++;
	l->driver_in_poll = true;
	pthread_mutex_unlock(&l->lock);
	poll(p, (nfds_t)(n + 1 + ns), wait);
	pthread_mutex_lock(&l->lock);
	l->driver_in_poll = false;
	if (p[n].revents)
		drain_fd(l->driver_wake);
	serve(l, src_fds, ns, runs);
	pthread_mutex_unlock(&l->lock);
	for (int i = 0; i < n; i++) {
		fds[i].revents = p[i].revents;
		ready += p[i].revents != 0;
	}
	return ready;
}

void cb_event_loop_leave(struct cb_event_loop *l)
{
	if (!__atomic_load_n(&l->driven, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&l->lock);
	if (l->driven && pthread_equal(l->driver, pthread_self())) {
		__atomic_store_n(&l->driven, false, __ATOMIC_SEQ_CST);
		signal_fd(l->wake);
	}
	pthread_mutex_unlock(&l->lock);
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
	l->driver_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake == -1 || l->driver_wake == -1) {
		cb_set_error_errno(errno, "eventfd");
		goto fail;
	}
	pthread_mutex_init(&l->lock, NULL);
	err = pthread_create(&l->thread, NULL, run, l);
	if (err) {
		cb_set_error_errno(err, "cannot start an event loop thread");
		pthread_mutex_destroy(&l->lock);
		goto fail;
	}
	return l;
fail:
	if (l->wake >= 0)
		close(l->wake);
	if (l->driver_wake >= 0)
		close(l->driver_wake);
	free(l);
	return NULL;
}

void cb_event_loop_stop(struct cb_event_loop *l)
{
	if (!l)
		return;
	__atomic_store_n(&l->stopping, true, __ATOMIC_RELEASE);
	signal_fd(l->wake);
	pthread_join(l->thread, NULL);
	pthread_mutex_destroy(&l->lock);
	close(l->wake);
	close(l->driver_wake);
	free(l);
}
