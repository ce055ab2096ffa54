/* Where library diagnostics go: stderr in the foreground, syslog once the
 * process has detached from its terminal. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "cli.h"
#include "lib/log.h"

static bool log_verbose;
static bool use_syslog;

static void sink(enum cb_log_level level, const char *msg, void *opaque)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level == CB_LOG_DEBUG && !log_verbose)
		return;
	if (use_syslog)
		syslog(prio[level], "%s", msg);
	else
		fprintf(stderr, "%s: %s: %s\n", program_name, names[level], msg);
}

void cli_log_init(bool verbose)
{
	log_verbose = verbose;
	cb_set_log_fn(sink, NULL);
}

void cli_log_to_syslog(void)
{
	openlog(program_name, LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

/* Once daemonised, stderr is /dev/null: errors must reach syslog. */
void cli_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(LOG_ERR, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", program_name, msg);
}
