/* Error reporting for libcinderbrick.
 *
 * Library functions never print: on failure they record a message and an
 * errno in thread-local storage and return -1 (or NULL).  Callers fetch them
 * with cb_get_error()/cb_get_errno(), as with libnbd's nbd_get_error().
 * The current message may be an argument of the next, to add context.
 */
#ifndef CB_ERROR_H
#define CB_ERROR_H

void cb_set_error(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like cb_set_error, and appends ": strerror(errnum)". */
void cb_set_error_errno(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *cb_get_error(void);
int cb_get_errno(void);

#endif
