/*
 * A client that waits for each reply before it sends the next request (a
 * queue depth of one, or a sync write) sends it a few microseconds after
 * the reply.  If the connection thread is asleep by then, the client pays
 * for waking it and the request waits for it to be scheduled: in a VM,
 * more than the request itself costs.  So a thread that runs out of work
 * first polls its socket for SPIN_NS.  Deep queues gain too: a client whose
 * requests find the thread awake does not pay for waking it, and at 4k
 * requests that client is the bottleneck.
 *
 * poll() and not recv(): it reads the queue without the socket lock that
 * the client needs to send.  The cost is CPU time, so it is bounded three
 * ways: polls that find nothing make later ones rarer (a client that
 * pauses wastes one poll in 2^NBD_SPIN_BACKOFF_MAX idle waits), at most one
 * thread less than there are CPUs polls at a time (the client needs a CPU
 * too), and a poll ends after SPIN_NS.  No sched_yield() in the loop: it
 * cost a third of the gain in a VM.
 */
#include <config.h>

#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "spin.h"

#define SPIN_NS 30000

void nbd_spin_limit_init(struct nbd_spin_limit *lim)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	atomic_init(&lim->active, 0);
	lim->max = ncpu > 1 ? (unsigned)ncpu - 1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool poll_until(int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	do {
		if (poll(&pfd, 1, 0) != 0)
			return true;
	} while (now_ns() < deadline);
	return false;
}

bool nbd_spin_for_input(struct nbd_spin *st, struct nbd_spin_limit *lim, int fd)
{
	bool found;

	if (st->skip) {
		st->skip--;
		return false;
	}
	if (atomic_fetch_add(&lim->active, 1) >= lim->max) {
		atomic_fetch_sub(&lim->active, 1);
		return false;
	}
	found = poll_until(fd, now_ns() + SPIN_NS);
	atomic_fetch_sub(&lim->active, 1);
	if (found) {
		st->misses = 0;
		return true;
	}
	if (st->misses < NBD_SPIN_BACKOFF_MAX)
		st->misses++;
	st->skip = (1u << st->misses) - 1;
	return false;
}
