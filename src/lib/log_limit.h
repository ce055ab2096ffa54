/* What cb_log passes on to the sink: a message repeated back to back is
 * passed on once and then counted, and past a budget of lines per window
 * the rest are counted and dropped.  Pure: the caller holds the lock and
 * gives the time, so that tests control it. */
#ifndef CB_LOG_LIMIT_H
#define CB_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define LOG_LIMIT_MSG_MAX 1024

struct log_out {
	cb_log_fn fn;
	void *opaque;
};

struct log_limit {
	/* The last message, passed on or dropped, and its repeats since. */
	bool have_last;
	enum cb_log_level last_level;
	char last[LOG_LIMIT_MSG_MAX];
	unsigned long repeats;
	uint64_t rep_start, rep_last;	/* ns */

	/* The budget's window: lines passed on, and messages dropped. */
	uint64_t win_start;
	unsigned passed;
	unsigned long dropped;
	enum cb_log_level dropped_level;	/* the most severe dropped */
	uint64_t drop_last;
};

/* @now: nanoseconds on a clock that never goes back. */
void log_limit_submit(struct log_limit *l, const struct log_out *out, uint64_t now,
		      enum cb_log_level level, const char *msg);
/* Passes on what is pending (a repeat count, a dropped count); the next
 * message is passed on even if it is the last one again. */
void log_limit_flush(struct log_limit *l, const struct log_out *out, uint64_t now);

#endif
