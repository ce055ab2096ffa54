#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "log_limit.h"

/* cb_log is called from any thread; one lock keeps the sink, the counts
 * and the order of lines (a count before the message that ends its run)
 * together.  It is only taken on error and diagnostic paths. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_out sink;
static struct log_limit limiter;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What is pending goes to the sink that saw the messages counted. */
void cb_set_log_fn(cb_log_fn fn, void *opaque)
{
	pthread_mutex_lock(&log_lock);
	if (sink.fn)
		log_limit_flush(&limiter, &sink, now_ns());
	limiter = (struct log_limit){ 0 };
	sink = (struct log_out){ fn, opaque };
	pthread_mutex_unlock(&log_lock);
}

void cb_log(enum cb_log_level level, const char *fmt, ...)
{
	char msg[LOG_LIMIT_MSG_MAX];
	int err = errno;	/* for %m, whatever locking does to it */
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (sink.fn) {
		errno = err;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		log_limit_submit(&limiter, &sink, now_ns(), level, msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void cb_log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	if (sink.fn)
		log_limit_flush(&limiter, &sink, now_ns());
	pthread_mutex_unlock(&log_lock);
}
