/* Unit tests of src/lib/log_limit.c (what reaches the sink when messages
 * repeat or flood, the time given by the test) and of cb_log's use of it. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"
#include "lib/log_limit.h"

#define MS 1000000ull
#define S (1000 * MS)
/* A monotonic clock is seldom near 0; nor is the tests'. */
#define T0 (1000 * S)
#define MAX_LINES 300

struct line {
	enum cb_log_level level;
	char text[LOG_LIMIT_MSG_MAX + 128];
};

static struct line lines[MAX_LINES];
static unsigned n_lines;
static struct log_limit lim;

static void record(enum cb_log_level level, const char *msg, void *opaque)
{
	(void)opaque;
	assert_true(n_lines < MAX_LINES);
	lines[n_lines].level = level;
	snprintf(lines[n_lines].text, sizeof lines[n_lines].text, "%s", msg);
	n_lines++;
}

static const struct log_out out = { record, NULL };

static int setup(void **state)
{
	(void)state;
	lim = (struct log_limit){ 0 };
	n_lines = 0;
	return 0;
}

static void submit(uint64_t t, enum cb_log_level level, const char *msg)
{
	log_limit_submit(&lim, &out, T0 + t, level, msg);
}

static void flush(uint64_t t)
{
	log_limit_flush(&lim, &out, T0 + t);
}

static void assert_line(unsigned i, enum cb_log_level level, const char *text)
{
	assert_in_range(i, 0, n_lines - 1);
	assert_string_equal(lines[i].text, text);
	assert_int_equal(lines[i].level, level);
}

/* 100 distinct INFO lines at T0: the window's whole budget. */
static void spend_budget(void)
{
	char msg[32];

	for (unsigned i = 0; i < 100; i++) {
		snprintf(msg, sizeof msg, "filler %u", i);
		submit(0, CB_LOG_INFO, msg);
	}
	assert_int_equal(n_lines, 100);
}

static void repeats_collapse_into_a_count(void **state)
{
	(void)state;
	for (unsigned i = 0; i <= 4; i++)
		submit(i * S, CB_LOG_ERROR, "A");
	assert_int_equal(n_lines, 1);
	submit(5 * S, CB_LOG_ERROR, "B");
	assert_int_equal(n_lines, 3);
	assert_line(0, CB_LOG_ERROR, "A");
	assert_line(1, CB_LOG_ERROR, "A (repeated 4 times in 4.0 s)");
	assert_line(2, CB_LOG_ERROR, "B");
}

static void one_repeat_is_one_time(void **state)
{
	(void)state;
	submit(0, CB_LOG_WARNING, "A");
	submit(500 * MS, CB_LOG_WARNING, "A");
	submit(600 * MS, CB_LOG_WARNING, "B");
	assert_int_equal(n_lines, 3);
	assert_line(1, CB_LOG_WARNING, "A (repeated 1 time in 0.5 s)");
}

static void levels_are_kept(void **state)
{
	(void)state;
	submit(0, CB_LOG_ERROR, "A");
	submit(0, CB_LOG_WARNING, "A");	/* another level: another message */
	submit(0, CB_LOG_WARNING, "A");
	submit(0, CB_LOG_INFO, "A");
	submit(0, CB_LOG_INFO, "A");
	submit(0, CB_LOG_INFO, "A");
	submit(0, CB_LOG_ERROR, "B");
	assert_int_equal(n_lines, 6);
	assert_line(0, CB_LOG_ERROR, "A");
	assert_line(1, CB_LOG_WARNING, "A");
	assert_line(2, CB_LOG_WARNING, "A (repeated 1 time in 0.0 s)");
	assert_line(3, CB_LOG_INFO, "A");
	assert_line(4, CB_LOG_INFO, "A (repeated 2 times in 0.0 s)");
	assert_line(5, CB_LOG_ERROR, "B");
}

/* The flood of the issue: one line every 100 ms, without end. */
static void a_run_is_summed_up_every_10s(void **state)
{
	(void)state;
	for (unsigned i = 0; i <= 250; i++)
		submit(i * 100 * MS, CB_LOG_ERROR, "Socket failed with POLLHUP");
	assert_int_equal(n_lines, 3);
	assert_line(0, CB_LOG_ERROR, "Socket failed with POLLHUP");
	assert_line(1, CB_LOG_ERROR, "Socket failed with POLLHUP (repeated 99 times in 9.9 s)");
	assert_line(2, CB_LOG_ERROR, "Socket failed with POLLHUP (repeated 100 times in 9.9 s)");
	flush(25050 * MS);
	assert_int_equal(n_lines, 4);
	assert_line(3, CB_LOG_ERROR, "Socket failed with POLLHUP (repeated 51 times in 5.0 s)");
}

static void a_rare_repeat_is_passed_on_again(void **state)
{
	(void)state;
	submit(0, CB_LOG_ERROR, "A");
	submit(30 * S, CB_LOG_ERROR, "A");
	assert_int_equal(n_lines, 2);
	assert_line(1, CB_LOG_ERROR, "A");
	submit(31 * S, CB_LOG_ERROR, "A");
	flush(32 * S);
	assert_int_equal(n_lines, 3);
	assert_line(2, CB_LOG_ERROR, "A (repeated 1 time in 1.0 s)");
}

/* Varying messages past the budget are dropped, and counted at the level
 * of the most severe, until the window ends. */
static void a_flood_is_dropped_and_counted(void **state)
{
	char msg[32];

	(void)state;
	spend_budget();
	for (unsigned i = 0; i < 50; i++) {
		snprintf(msg, sizeof msg, "error at %u", i);
		submit(i * 20 * MS, i == 7 ? CB_LOG_ERROR : CB_LOG_WARNING, msg);
	}
	submit(9 * S, CB_LOG_ERROR, "still over budget");
	assert_int_equal(n_lines, 100);
	submit(12 * S, CB_LOG_INFO, "next window");
	assert_int_equal(n_lines, 102);
	assert_line(100, CB_LOG_ERROR, "51 messages not logged in 9.0 s (rate limit)");
	assert_line(101, CB_LOG_INFO, "next window");
}

static void the_dropped_level_is_the_most_severe(void **state)
{
	(void)state;
	spend_budget();
	submit(0, CB_LOG_INFO, "x");
	submit(0, CB_LOG_WARNING, "y");
	submit(0, CB_LOG_INFO, "z");
	flush(1 * S);
	assert_int_equal(n_lines, 101);
	assert_line(100, CB_LOG_WARNING, "3 messages not logged in 0.0 s (rate limit)");
}

/* A run summed up past the budget counts as the messages it stands for. */
static void dropped_repeats_count_as_messages(void **state)
{
	(void)state;
	spend_budget();
	for (unsigned i = 0; i < 10; i++)
		submit(1 * S, CB_LOG_ERROR, "X");
	submit(2 * S, CB_LOG_ERROR, "Y");
	flush(3 * S);
	assert_int_equal(n_lines, 101);
	assert_line(100, CB_LOG_ERROR, "11 messages not logged in 2.0 s (rate limit)");
}

static void flush_passes_on_what_is_pending(void **state)
{
	(void)state;
	flush(0);
	assert_int_equal(n_lines, 0);
	submit(0, CB_LOG_ERROR, "A");
	submit(1 * S, CB_LOG_ERROR, "A");
	submit(2 * S, CB_LOG_ERROR, "A");
	flush(3 * S);
	assert_int_equal(n_lines, 2);
	assert_line(1, CB_LOG_ERROR, "A (repeated 2 times in 2.0 s)");
	flush(3 * S);
	assert_int_equal(n_lines, 2);
	/* The flush ended the run: the message starts a new one. */
	submit(4 * S, CB_LOG_ERROR, "A");
	assert_int_equal(n_lines, 3);
	assert_line(2, CB_LOG_ERROR, "A");
}

static void debug_is_exempt(void **state)
{
	(void)state;
	submit(0, CB_LOG_ERROR, "A");
	submit(0, CB_LOG_DEBUG, "d");	/* does not break the run of A */
	submit(0, CB_LOG_ERROR, "A");
	submit(0, CB_LOG_DEBUG, "d");	/* nor is collapsed */
	submit(0, CB_LOG_ERROR, "B");
	assert_int_equal(n_lines, 5);
	assert_line(1, CB_LOG_DEBUG, "d");
	assert_line(2, CB_LOG_DEBUG, "d");
	assert_line(3, CB_LOG_ERROR, "A (repeated 1 time in 0.0 s)");
	n_lines = 0;
	lim = (struct log_limit){ 0 };
	spend_budget();
	submit(0, CB_LOG_DEBUG, "over budget, passed on");
	flush(0);
	assert_int_equal(n_lines, 101);
	assert_line(100, CB_LOG_DEBUG, "over budget, passed on");
}

/* cb_log on the real clock: formats, collapses, and cb_log_flush and a
 * change of sink pass on the count to the sink that was counting. */
static void cb_log_collapses_and_flushes(void **state)
{
	(void)state;
	cb_set_log_fn(record, NULL);
	for (int i = 0; i < 3; i++)
		cb_log(CB_LOG_ERROR, "%s: Socket failed with %s", "127.0.0.1:/vols/v", "POLLHUP");
	cb_log_flush();
	assert_int_equal(n_lines, 2);
	assert_line(0, CB_LOG_ERROR, "127.0.0.1:/vols/v: Socket failed with POLLHUP");
	assert_non_null(strstr(lines[1].text, "POLLHUP (repeated 2 times in "));
	cb_log(CB_LOG_WARNING, "w");
	cb_log(CB_LOG_WARNING, "w");
	cb_set_log_fn(NULL, NULL);
	assert_int_equal(n_lines, 4);
	assert_non_null(strstr(lines[3].text, "w (repeated 1 time in "));
	cb_log(CB_LOG_WARNING, "no sink");
	cb_log_flush();
	assert_int_equal(n_lines, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(repeats_collapse_into_a_count, setup),
		cmocka_unit_test_setup(one_repeat_is_one_time, setup),
		cmocka_unit_test_setup(levels_are_kept, setup),
		cmocka_unit_test_setup(a_run_is_summed_up_every_10s, setup),
		cmocka_unit_test_setup(a_rare_repeat_is_passed_on_again, setup),
		cmocka_unit_test_setup(a_flood_is_dropped_and_counted, setup),
		cmocka_unit_test_setup(the_dropped_level_is_the_most_severe, setup),
		cmocka_unit_test_setup(dropped_repeats_count_as_messages, setup),
		cmocka_unit_test_setup(flush_passes_on_what_is_pending, setup),
		cmocka_unit_test_setup(debug_is_exempt, setup),
		cmocka_unit_test_setup(cb_log_collapses_and_flushes, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
