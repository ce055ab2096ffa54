#include <config.h>

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static cb_log_fn log_fn;
static void *log_opaque;

void cb_set_log_fn(cb_log_fn fn, void *opaque)
{
	log_fn = fn;
	log_opaque = opaque;
}

void cb_log(enum cb_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_fn(level, msg, log_opaque);
}
