/* The safety net under every cb_log: a backend or event loop that fails
 * the same way on every turn must cost the host a line per period, not
 * gigabytes of disk (issue 16: 46.5 million identical lines in 5 minutes).
 *
 * DEBUG messages go straight through, neither collapsed nor counted.  The
 * CLI's sink throws them away unless --verbose, so if they took part,
 * lines nobody sees would spend the budget and break up runs of a
 * repeated error; and --verbose asks for all of them: its busiest users
 * (HTTP exchanges, dozens of lines each) would exhaust a budget meant for
 * errors within seconds.  None is logged per event loop turn. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "log_limit.h"

#define NS_PER_S 1000000000ull

/* A run of one message repeated is summed up at least this often, so a
 * flood that never ends still shows at intervals, as a count. */
#define REPEAT_PERIOD_NS (10 * NS_PER_S)

/* Real events log a few lines each (a path failing and its requests
 * moved, a reconnect, a stop), a burst of events a few dozen.  100 lines
 * per 10 s window leaves such bursts whole, while a flood of varying lines
 * (errors naming each request's offset, two errors alternating) is held
 * to 10 lines a second on average: some 4 MB an hour, not gigabytes in
 * minutes. */
#define WINDOW_NS (10 * NS_PER_S)
#define WINDOW_BUDGET 100u

static double seconds(uint64_t ns)
{
	return (double)ns / NS_PER_S;
}

static void emit(const struct log_out *out, enum cb_log_level level, const char *msg)
{
	out->fn(level, msg, out->opaque);
}

/* At the level of the most severe message dropped: a sink that keeps only
 * errors still learns that errors were lost. */
static void report_dropped(struct log_limit *l, const struct log_out *out)
{
	char line[128];

	if (!l->dropped)
		return;
	snprintf(line, sizeof line, "%lu message%s not logged in %.1f s (rate limit)",
		 l->dropped, l->dropped == 1 ? "" : "s", seconds(l->drop_last - l->win_start));
	emit(out, l->dropped_level, line);
	l->dropped = 0;
}

static void end_window_if_due(struct log_limit *l, const struct log_out *out, uint64_t now)
{
	if (now - l->win_start < WINDOW_NS)
		return;
	report_dropped(l, out);
	l->win_start = now;
	l->passed = 0;
}

/* @weight: how many messages the line stands for, so that the dropped
 * count is of messages, whether passed on one by one or summed up. */
static void pass(struct log_limit *l, const struct log_out *out, uint64_t now,
		 enum cb_log_level level, const char *line, unsigned long weight)
{
	if (l->passed < WINDOW_BUDGET) {
		l->passed++;
		emit(out, level, line);
		return;
	}
	if (!l->dropped || level < l->dropped_level)
		l->dropped_level = level;
	l->dropped += weight;
	l->drop_last = now;
}

static void end_repeats(struct log_limit *l, const struct log_out *out, uint64_t now)
{
	char line[LOG_LIMIT_MSG_MAX + 128];

	if (!l->repeats)
		return;
	snprintf(line, sizeof line, "%s (repeated %lu time%s in %.1f s)", l->last, l->repeats,
		 l->repeats == 1 ? "" : "s", seconds(l->rep_last - l->rep_start));
	pass(l, out, now, l->last_level, line, l->repeats);
	l->repeats = 0;
}

/* A message seen again after a whole period without repeats is no flood:
 * it is passed on again rather than summed up a period late. */
static void repeat(struct log_limit *l, const struct log_out *out, uint64_t now)
{
	if (now - l->rep_start >= REPEAT_PERIOD_NS) {
		if (!l->repeats) {
			l->rep_start = now;
			pass(l, out, now, l->last_level, l->last, 1);
			return;
		}
		end_repeats(l, out, now);
		l->rep_start = now;
	}
	l->repeats++;
	l->rep_last = now;
}

static bool is_last(const struct log_limit *l, enum cb_log_level level, const char *msg)
{
	return l->have_last && l->last_level == level && strcmp(l->last, msg) == 0;
}

void log_limit_submit(struct log_limit *l, const struct log_out *out, uint64_t now,
		      enum cb_log_level level, const char *msg)
{
	if (level == CB_LOG_DEBUG) {
		emit(out, level, msg);
		return;
	}
	end_window_if_due(l, out, now);
	if (is_last(l, level, msg)) {
		repeat(l, out, now);
		return;
	}
	end_repeats(l, out, now);
	l->have_last = true;
	l->last_level = level;
	snprintf(l->last, sizeof l->last, "%s", msg);
	l->rep_start = now;
	pass(l, out, now, level, msg, 1);
}

void log_limit_flush(struct log_limit *l, const struct log_out *out, uint64_t now)
{
	end_window_if_due(l, out, now);
	end_repeats(l, out, now);
	report_dropped(l, out);
	l->have_last = false;
}
