/* cinder-brick export: serve one volume from its connection_info, until
 * a stop signal.  The serving itself is the engine's (engine/export.h). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "cli.h"
#include "engine/export.h"
#include "lib/error.h"
#include "nbdserver/server.h"

#define CMD "export"

struct export_opts {
	const char *connection_info;
	const char *nbd;		/* unix:PATH or tcp:HOST:PORT */
	const char *fuse;
	bool loop;
	bool read_only;
	bool direct_io;
	const char *export_name;
	const char *pidfile;
	json_t *backend_options;	/* {"rbd.keyring": FILE, ...}, or NULL */
	bool foreground;
	bool verbose;
};

static void export_help(void)
{
	printf("Usage: %s export --connection-info FILE|- [--nbd unix:PATH | --nbd tcp:HOST:PORT]\n"
	       "                     [--fuse MOUNTPOINT [--loop]] [--read-only] [--direct-io]\n"
	       "                     [--export-name NAME] [--pidfile FILE] [--rbd-keyring FILE]\n"
	       "                     [--backend-option NAME=VALUE]... [--foreground] [--verbose]\n"
	       "\n"
	       "Open the volume described by a Cinder connection_info object and serve it\n"
	       "until SIGINT or SIGTERM, then flush and tear everything down.\n"
	       "\n"
	       "  --connection-info FILE  JSON connection_info (\"-\" reads stdin), e.g.\n"
	       "                          {\"driver_volume_type\": \"local\",\n"
	       "                           \"data\": {\"device_path\": \"/path/to/file-or-device\"}}\n"
	       "  --nbd unix:PATH         serve NBD on a Unix socket\n"
	       "  --nbd tcp:HOST:PORT     serve NBD on TCP (HOST empty means 127.0.0.1)\n"
	       "  --fuse MOUNTPOINT       expose the volume as a file: MOUNTPOINT itself if it is\n"
	       "                          an empty regular file, else MOUNTPOINT/disk\n"
	       "  --loop                  attach a loop device (direct I/O) to the FUSE file\n"
	       "  --read-only             refuse writes\n"
	       "  --direct-io             open the backing file with O_DIRECT (no host page cache)\n"
	       "  --export-name NAME      the only NBD export name accepted (default: any)\n"
	       "  --pidfile FILE          write the serving process's pid once ready\n"
	       "  --rbd-keyring FILE      Ceph keyring for an rbd volume, instead of the\n"
	       "                          connection_info's \"keyring\" or\n"
	       "                          /etc/ceph/<cluster>.client.<user>.keyring\n"
	       "                          (the same as --backend-option rbd.keyring=FILE)\n"
	       "  --backend-option NAME=VALUE  a setting of one backend, NAME being\n"
	       "                          BACKEND.OPTION; repeatable; options of other\n"
	       "                          backends than the volume's are ignored:\n",
	       program_name);
	cli_backend_options_help();
	printf("  --foreground            do not daemonise\n"
	       "  --verbose               log per-client events\n"
	       "\n"
	       "Prints one line per endpoint once ready: \"nbd: URI\", \"fuse: FILE\", \"loop: DEVICE\".\n"
	       "Without --foreground the command returns once the export is ready.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static int parse_args(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_CI = 256, OPT_NBD, OPT_FUSE, OPT_LOOP, OPT_RO, OPT_DIRECT, OPT_NAME,
	       OPT_PIDFILE, OPT_KEYRING, OPT_BACKEND_OPTION, OPT_FG, OPT_VERBOSE, OPT_HELP };
	static const struct option longopts[] = {
		{ "connection-info", required_argument, NULL, OPT_CI },
		{ "nbd", required_argument, NULL, OPT_NBD },
		{ "fuse", required_argument, NULL, OPT_FUSE },
		{ "loop", no_argument, NULL, OPT_LOOP },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "direct-io", no_argument, NULL, OPT_DIRECT },
		{ "export-name", required_argument, NULL, OPT_NAME },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "rbd-keyring", required_argument, NULL, OPT_KEYRING },
		{ "backend-option", required_argument, NULL, OPT_BACKEND_OPTION },
		{ "foreground", no_argument, NULL, OPT_FG },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CI: o->connection_info = optarg; break;
		case OPT_NBD: o->nbd = optarg; break;
		case OPT_FUSE: o->fuse = optarg; break;
		case OPT_LOOP: o->loop = true; break;
		case OPT_RO: o->read_only = true; break;
		case OPT_DIRECT: o->direct_io = true; break;
		case OPT_NAME: o->export_name = optarg; break;
		case OPT_PIDFILE: o->pidfile = optarg; break;
		case OPT_KEYRING:
			if (cli_backend_option_set(CMD, &o->backend_options, "rbd.keyring",
						   optarg) == -1)
				return -1;
			break;
		case OPT_BACKEND_OPTION:
			if (cli_backend_option(CMD, &o->backend_options, optarg) == -1)
				return -1;
			break;
		case OPT_FG: o->foreground = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_HELP: export_help(); exit(EXIT_OK);
		default:
			cli_bad_option(CMD, argv);
			return -1;
		}
	}
	if (cli_no_arguments(CMD, argc, argv) == -1)
		return -1;
	if (cb_backend_options_check(o->backend_options) == -1) {
		cli_usage_error(CMD, "%s", cb_get_error());
		return -1;
	}
	if (!o->connection_info) {
		cli_usage_error(CMD, "--connection-info is required");
		return -1;
	}
	if (!o->nbd && !o->fuse) {
		cli_usage_error(CMD, "nothing to serve: give --nbd and/or --fuse");
		return -1;
	}
	if (o->loop && !o->fuse) {
		cli_usage_error(CMD, "--loop needs --fuse");
		return -1;
	}
	if (o->export_name && strlen(o->export_name) > NBD_SERVER_MAX_NAME) {
		cli_usage_error(CMD, "--export-name is longer than %d bytes", NBD_SERVER_MAX_NAME);
		return -1;
	}
	if (o->nbd && !cb_export_nbd_endpoint_valid(o->nbd)) {
		cli_usage_error(CMD, "--nbd takes unix:PATH or tcp:HOST:PORT, not '%s'", o->nbd);
		return -1;
	}
	return 0;
}

/* A JSON document; its shape is the engine's to check. */
static json_t *read_connection_info(const char *path)
{
	bool from_stdin = strcmp(path, "-") == 0;
	json_error_t jerr;
	json_t *ci;

	ci = from_stdin ? json_loadf(stdin, 0, &jerr) : json_load_file(path, 0, &jerr);
	if (!ci)
		cli_error("cannot parse connection info %s: %s (line %d)",
			  from_stdin ? "from stdin" : path, jerr.text, jerr.line);
	return ci;
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		cli_error("cannot write pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void print_endpoints(const struct cb_export *x)
{
	if (cb_export_nbd_uri(x))
		printf("nbd: %s\n", cb_export_nbd_uri(x));
	if (cb_export_fuse_file(x))
		printf("fuse: %s\n", cb_export_fuse_file(x));
	if (cb_export_device(x))
		printf("loop: %s\n", cb_export_device(x));
	fflush(stdout);
}

static struct cb_export *start(const struct export_opts *o, const json_t *ci)
{
	struct cb_export_opts xo = {
		.connection_info = ci, .backend_options = o->backend_options,
		.read_only = o->read_only, .direct_io = o->direct_io, .nbd = o->nbd,
		.export_name = o->export_name, .fuse = o->fuse, .loop = o->loop,
	};
	struct cb_export *x = cb_export_start(&xo);

	if (!x) {
		cli_error("%s", cb_get_error());
		return NULL;
	}
	if (o->pidfile && write_pidfile(o->pidfile) == -1) {
		cb_export_stop(x);
		return NULL;
	}
	return x;
}

static int serve(const struct export_opts *o, const json_t *ci)
{
	struct cb_export *x;
	sigset_t sigs;
	int status;

	if (!o->foreground)
		cli_daemon_fork();
	cli_block_stop_signals(&sigs);
	x = start(o, ci);
	if (!x) {
		cli_daemon_failed(EXIT_FAILURE_RUNTIME);
		return EXIT_FAILURE_RUNTIME;
	}
	print_endpoints(x);
	cli_daemon_ready();
	status = cli_serve_until_stopped(x, &sigs);
	if (o->pidfile)
		unlink(o->pidfile);
	return status;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { 0 };
	int status = EXIT_USAGE;
	json_t *ci;

	if (parse_args(argc, argv, &o) == 0) {
		cli_log_init(o.verbose);
		ci = read_connection_info(o.connection_info);
		status = ci ? serve(&o, ci) : EXIT_FAILURE_RUNTIME;
		json_decref(ci);
	}
	json_decref(o.backend_options);
	return status;
}
