/* Shared by the cinder-brick commands (and the serving helper): option
 * tables, messages, JSON output, daemonising.  src/cli parses and prints;
 * the work is done by the library (src/engine and below). */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cinder/cinder.h"
#include "cinder/os_config.h"
#include "host/connector.h"

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
/* Pretty JSON and a newline on stdout. */
void cli_print_json(const json_t *j);

/* Log sink for library messages: stderr, or syslog once daemonised. */
void cli_log_init(bool verbose);
void cli_log_to_syslog(void);

/* Daemonising after the work is ready: the parent returns from
 * cli_daemon_fork() only to exit with the status the child reports. */
void cli_daemon_fork(void);
void cli_daemon_ready(void);	/* child: detach and let the parent exit 0 */
void cli_daemon_failed(int status);

/* Serving until a stop signal (serve_loop.c), for export and the helper. */
struct cb_export;
/* Keeps the memory of large requests for the next ones. */
void cli_tune_malloc(void);
/* Blocks SIGINT, SIGTERM, SIGHUP and SIGUSR1 in every thread to come. */
void cli_block_stop_signals(sigset_t *set);
struct cli_serve_opts {
	/* Where to keep the state of the volume's paths, refreshed every
	 * second (cb_export_publish_paths); NULL for nowhere. */
	const char *paths_file;
	const char *pidfile;		/* removed at the exit; NULL for none */
	/* Seconds a stop waits for the storage before it fails what still
	 * waits and the process exits; 0: CB_EXPORT_DEFAULT_STOP_GRACE. */
	unsigned stop_grace;
};
/* Waits for a stop signal; a block device that is still in use keeps
 * being served (and says so) until the next.  Then stops x; returns the
 * exit status.  SIGUSR1 meanwhile grows the export to the volume's new
 * size.  A stop that outlasts its grace period ends the process
 * (_exit(EXIT_FAILURE_RUNTIME)), with the device let go (cb_export_abort). */
int cli_serve_until_stopped(struct cb_export *x, const sigset_t *sigs,
			    const struct cli_serve_opts *o);

/* Option tables.  getopt values from CLI_OPT_OS on are the OpenStack
 * options' (os_opts.c); the connector's are CLI_OPT_CONNECTOR...; commands
 * number their own from 256.  cli_longopts() copies a command's own
 * options (ended by a zeroed entry), then the shared sets asked for, then
 * the terminator, into out[CLI_LONGOPTS_MAX]. */
#define CLI_OPT_OS 1000
#define CLI_OPT_DEBUG 999
#define CLI_OPT_CONNECTOR 900
#define CLI_OPT_KERNEL_NBD 800
#define CLI_WITH_CONNECTOR 1u
#define CLI_WITH_OS 2u
#define CLI_WITH_KERNEL_NBD 4u
#define CLI_WITH_LOCAL_PATHS 8u
#define CLI_OPT_LOCAL_PATH 700
#define CLI_LONGOPTS_MAX 96
void cli_longopts(struct option *out, const struct option *own, unsigned int with);

/* The connector flags (--multipath, --enforce-multipath, --nic): true when
 * opt was one of them. */
bool cli_connector_option(int opt, const char *arg, struct cb_connector_opts *o);

/* The kernel NBD options (--connections, --io-timeout,
 * --dead-conn-timeout): true when opt was one, with *r 0 or -1 after a
 * usage error. */
struct cb_kernel_nbd_opts;
bool cli_kernel_nbd_option(const char *cmd, int opt, const char *arg,
			   struct cb_kernel_nbd_opts *o, int *r);
void cli_kernel_nbd_help(void);

/* --stop-grace S, of the commands that start a serving process: 0, or -1
 * after a usage error. */
int cli_stop_grace_option(const char *cmd, const char *arg, unsigned *grace);

/* --allow-local-path DIR, for the commands that serve what Cinder hands
 * out: true when opt was it, with *r 0 or -1 after a usage error. */
#define CLI_MAX_LOCAL_PATHS 16
struct cli_local_paths {
	const char *paths[CLI_MAX_LOCAL_PATHS + 1];	/* NULL-terminated */
	size_t n;
};
bool cli_local_path_option(const char *cmd, int opt, const char *arg,
			   struct cli_local_paths *l, int *r);

/* Backend-specific options, as a JSON object {"rbd.keyring": FILE, ...}
 * created on first use: cli_backend_option() takes --backend-option
 * NAME=VALUE (never a secret, which argv would show), checking NAME;
 * cli_backend_option_set() sets one.  0, or -1 after a usage error. */
int cli_backend_option(const char *cmd, json_t **opts, const char *arg);
int cli_backend_option_set(const char *cmd, json_t **opts, const char *key,
			   const char *value);
/* One line per option of every backend, for --help. */
void cli_backend_options_help(void);

/* The getopt loop of a command that talks to Cinder: own's options and
 * those of the sets in with go to on_opt (may be NULL), which returns 0,
 * -1 after a usage error, or 1 for an option not its own, which is then
 * one of the OpenStack options, set in cfg.  CLI_OPT_HELP in own calls help
 * and exits.  0, or -1 after a usage message. */
#define CLI_OPT_HELP 990
int cli_getopt_cinder(const char *cmd, int argc, char **argv, const struct option *own,
		      unsigned int with, void (*help)(void),
		      int (*on_opt)(int opt, const char *arg, void *ctx), void *ctx,
		      struct cb_os_config *cfg);

/* The OpenStack options: cli_os_longopts() writes their table to out
 * and returns how many; cli_os_option() handles one: 0, or -1 after a
 * usage error. */
size_t cli_os_longopts(struct option *out);
int cli_os_option(const char *cmd, struct cb_os_config *cfg, int opt, const char *arg);
void cli_os_help(void);
/* Fills what the flags left unset from OS_* and clouds.yaml; -1 after
 * printing why. */
int cli_os_resolve(struct cb_os_config *cfg);

int cmd_export(int argc, char **argv);
int cmd_get_connector(int argc, char **argv);
int cmd_local_attach(int argc, char **argv);
int cmd_local_detach(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_reattach(int argc, char **argv);
int cmd_resize(int argc, char **argv);

#endif
