/* Shared by the cinder-brick subcommands. */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cinder/cinder.h"
#include "cinder/os_config.h"

/* Exit codes scripts can rely on. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1	/* the command was valid but failed */
#define EXIT_USAGE 2		/* bad command line */

extern const char *program_name;

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* After getopt: the one VOLUME argument, or none at all.  -1 after a
 * usage message. */
int cli_take_volume(const char *cmd, int argc, char **argv, const char **volume);
int cli_no_arguments(const char *cmd, int argc, char **argv);
/* getopt_long() returned '?': name the option it choked on. */
void cli_bad_option(const char *cmd, char **argv);

/* Log sink for library messages: stderr, or syslog once daemonised. */
void cli_log_init(bool verbose);
void cli_log_to_syslog(void);

/* Daemonising after the work is ready: the parent returns from
 * cli_daemon_fork() only to exit with the status the child reports. */
void cli_daemon_fork(void);
void cli_daemon_ready(void);	/* child: detach and let the parent exit 0 */
void cli_daemon_failed(int status);

/* A string member of a JSON object, or dflt. */
static inline const char *cli_str(const json_t *j, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : dflt;
}

/* The OpenStack options (os_opts.c).  getopt values from CLI_OPT_OS on
 * are theirs; commands number their own below it. */
#define CLI_OPT_OS 1000
#define CLI_OPT_DEBUG 999
#define CLI_MAX_OS_LONGOPTS 49
/* Fills out with the options; returns how many (at most CLI_MAX_OS_LONGOPTS). */
size_t cli_os_longopts(struct option *out);
/* Handles one of them: 0, or -1 after a usage error. */
int cli_os_option(const char *cmd, struct cb_os_config *cfg, int opt, const char *arg);
void cli_os_help(void);
/* Resolves cfg (environment, clouds.yaml) and connects; NULL after
 * printing why. */
struct cb_cinder *cli_cinder_open(struct cb_os_config *cfg);

int cmd_export(int argc, char **argv);
int cmd_get_connector(int argc, char **argv);
int cmd_local_attach(int argc, char **argv);
int cmd_local_detach(int argc, char **argv);
int cmd_list(int argc, char **argv);

#endif
