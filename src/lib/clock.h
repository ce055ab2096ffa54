/* The monotonic clock in milliseconds, for deadlines and back-offs: never
 * the wall clock, which an administrator or NTP may step. */
#ifndef CB_LIB_CLOCK_H
#define CB_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cb_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

#endif
