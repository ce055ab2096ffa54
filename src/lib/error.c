#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local char last_error[1024];
static _Thread_local int last_errno;

static void set_error_va(int errnum, bool with_strerror, const char *fmt, va_list ap)
{
	int n = vsnprintf(last_error, sizeof last_error, fmt, ap);

	if (with_strerror && n >= 0 && (size_t)n < sizeof last_error)
		snprintf(last_error + n, sizeof last_error - n, ": %s", strerror(errnum));
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
