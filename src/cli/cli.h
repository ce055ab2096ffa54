/* Shared by the cinder-brick subcommands. */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <stdbool.h>

/* Exit codes scripts can rely on. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1	/* the command was valid but failed */
#define EXIT_USAGE 2		/* bad command line */

extern const char *program_name;

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log sink for library messages: stderr, or syslog once daemonised. */
void cli_log_init(bool verbose);
void cli_log_to_syslog(void);

/* Daemonising after the work is ready: the parent returns from
 * cli_daemon_fork() only to exit with the status the child reports. */
void cli_daemon_fork(void);
void cli_daemon_ready(void);	/* child: detach and let the parent exit 0 */
void cli_daemon_failed(int status);

int cmd_export(int argc, char **argv);

#endif
