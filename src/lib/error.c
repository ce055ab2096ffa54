#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local char last_error[1024];
static _Thread_local int last_errno;

/* Formatted aside first: a caller may wrap the current message,
 * cb_set_error(cb_get_errno(), "volume %s: %s", id, cb_get_error()). */
static void set_error_va(int errnum, bool with_strerror, const char *fmt, va_list ap)
{
	char msg[sizeof last_error];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);

	if (with_strerror && n >= 0 && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - n, ": %s", strerror(errnum));
	memcpy(last_error, msg, sizeof msg);
	last_errno = errnum;
}

void cb_set_error(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_va(errnum, false, fmt, ap);
	va_end(ap);
}

void cb_set_error_errno(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_va(errnum, true, fmt, ap);
	va_end(ap);
}

const char *cb_get_error(void)
{
	return last_error[0] ? last_error : "unknown error";
}

int cb_get_errno(void)
{
	return last_errno;
}
