/* Diagnostics from long-running library code (server threads, exports).
 *
 * The library never writes to stderr or syslog itself: the application
 * installs a sink.  Without one, messages are dropped.
 *
 * A message repeated back to back reaches the sink once, then as
 * "MSG (repeated N times in S s)" when another comes or every 10 s; past
 * 100 lines in 10 s the rest are counted and dropped, and reported as
 * "N messages not logged in S s (rate limit)".  DEBUG messages are exempt.
 * The sink is called with a lock held: it must not call cb_log.
 */
#ifndef CB_LOG_H
#define CB_LOG_H

enum cb_log_level { CB_LOG_ERROR, CB_LOG_WARNING, CB_LOG_INFO, CB_LOG_DEBUG };

typedef void (*cb_log_fn)(enum cb_log_level level, const char *msg, void *opaque);

void cb_set_log_fn(cb_log_fn fn, void *opaque);
void cb_log(enum cb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Passes on the counts still pending, as a process that logged ends. */
void cb_log_flush(void);

#endif
