/* Polling an idle client socket for a while before sleeping on it.
 * Private to src/nbdserver. */
#ifndef CB_NBD_SPIN_H
#define CB_NBD_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>

/* After n polls in a row found nothing, the next 2^n - 1 idle waits skip
 * polling, up to this n. */
#define NBD_SPIN_BACKOFF_MAX 6

/* Server-wide: how many connection threads may poll at once. */
struct nbd_spin_limit {
	atomic_uint active;
	unsigned max;		/* 0: never poll */
};

/* Per connection: how the last polls went. */
struct nbd_spin {
	unsigned misses;	/* polls in a row that found nothing */
	unsigned skip;		/* idle waits left before polling again */
};

void nbd_spin_limit_init(struct nbd_spin_limit *lim);
/* Polls fd for input for a short while; true if some arrived.  False
 * means: go to sleep on fd as usual. */
bool nbd_spin_for_input(struct nbd_spin *st, struct nbd_spin_limit *lim, int fd);

#endif
