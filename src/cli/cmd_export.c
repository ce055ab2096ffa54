/* cinder-brick export: serve one volume from its connection_info. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "cli.h"
#include "exports/fuse_export.h"
#include "exports/loop.h"
#include "lib/error.h"
#include "nbdserver/server.h"
#include "nbdserver/wire.h"

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
	const char *rbd_keyring;
	bool foreground;
	bool verbose;
};

struct export_state {
	struct cb_backend *backend;
	struct nbd_server *server;
	struct fuse_export *fuse;
	char nbd_uri[512];
	char loop_dev[64];
	bool pidfile_written;
};

static void export_help(void)
{
	printf("Usage: %s export --connection-info FILE|- [--nbd unix:PATH | --nbd tcp:HOST:PORT]\n"
	       "                     [--fuse MOUNTPOINT [--loop]] [--read-only] [--direct-io]\n"
	       "                     [--export-name NAME] [--pidfile FILE] [--rbd-keyring FILE]\n"
	       "                     [--foreground] [--verbose]\n"
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
	       "  --foreground            do not daemonise\n"
	       "  --verbose               log per-client events\n"
	       "\n"
	       "Prints one line per endpoint once ready: \"nbd: URI\", \"fuse: FILE\", \"loop: DEVICE\".\n"
	       "Without --foreground the command returns once the export is ready.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n", program_name);
}

static int parse_args(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_CI = 256, OPT_NBD, OPT_FUSE, OPT_LOOP, OPT_RO, OPT_DIRECT, OPT_NAME,
	       OPT_PIDFILE, OPT_KEYRING, OPT_FG, OPT_VERBOSE, OPT_HELP };
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
		case OPT_KEYRING: o->rbd_keyring = optarg; break;
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
	if (o->export_name && strlen(o->export_name) > NBD_MAX_STRING) {
		cli_usage_error(CMD, "--export-name is longer than %d bytes", NBD_MAX_STRING);
		return -1;
	}
	if (o->nbd && !(strncmp(o->nbd, "unix:", 5) == 0 && o->nbd[5]) &&
	    !(strncmp(o->nbd, "tcp:", 4) == 0 && strchr(o->nbd + 4, ':'))) {
		cli_usage_error(CMD, "--nbd takes unix:PATH or tcp:HOST:PORT, not '%s'", o->nbd);
		return -1;
	}
	return 0;
}

/* Prints the endpoint as an NBD URI, which nbdinfo, qemu and libnbd take. */
static int start_nbd(struct export_state *st, const struct export_opts *o)
{
	const char *name = o->export_name ? o->export_name : "";
	struct nbd_server_config cfg = { .export_name = o->export_name,
					 .read_only = o->read_only };
	int r;

	st->server = nbd_server_new(st->backend, &cfg);
	if (!st->server)
		return -1;
	if (strncmp(o->nbd, "unix:", 5) == 0) {
		r = nbd_server_listen_unix(st->server, o->nbd + 5);
		snprintf(st->nbd_uri, sizeof st->nbd_uri, "nbd+unix:///%s?socket=%s",
			 name, o->nbd + 5);
	} else {
		char *hostport = strdup(o->nbd + 4);
		char *colon = hostport ? strrchr(hostport, ':') : NULL;

		if (!colon) {	/* parse_args checked the syntax: only ENOMEM */
			free(hostport);
			cb_set_error(ENOMEM, "out of memory");
			return -1;
		}
		*colon = '\0';
		r = nbd_server_listen_tcp(st->server, *hostport ? hostport : NULL, colon + 1);
		snprintf(st->nbd_uri, sizeof st->nbd_uri, "nbd://%s:%s/%s",
			 *hostport ? hostport : "127.0.0.1", colon + 1, name);
		free(hostport);
	}
	return r == 0 ? nbd_server_start(st->server) : -1;
}

static int start_fuse(struct export_state *st, const struct export_opts *o)
{
	st->fuse = fuse_export_start(st->backend, o->fuse, o->read_only);
	if (!st->fuse)
		return -1;
	if (!o->loop)
		return 0;
	if (loop_attach(fuse_export_file(st->fuse), o->read_only,
			st->backend->caps.logical_block_size, st->loop_dev,
			sizeof st->loop_dev) == -1)
		return -1;
	return 0;
}

static int write_pidfile(struct export_state *st, const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		cb_set_error_errno(errno, "cannot write pidfile %s", path);
		return -1;
	}
	st->pidfile_written = true;
	return 0;
}

/* Undoes start in reverse: the block device first, so its last writes
 * reach the backend before anything below it goes away. */
static int teardown(struct export_state *st, const struct export_opts *o)
{
	int status = EXIT_OK;

	if (st->loop_dev[0] && loop_detach(st->loop_dev) == -1) {
		cli_error("%s", cb_get_error());
		status = EXIT_FAILURE_RUNTIME;
	}
	fuse_export_stop(st->fuse);
	nbd_server_free(st->server);
	if (st->backend && !o->read_only && st->backend->caps.can_flush) {
		int err = cb_backend_io_sync(st->backend, CB_IO_FLUSH, 0, 0, 0, NULL);

		if (err) {
			cli_error("final flush failed: %s", strerror(err));
			status = EXIT_FAILURE_RUNTIME;
		}
	}
	cb_backend_close(st->backend);
	if (st->pidfile_written)
		unlink(o->pidfile);
	return status;
}

static int start(struct export_state *st, const struct export_opts *o)
{
	struct cb_open_opts oo = { .read_only = o->read_only, .direct_io = o->direct_io,
				   .rbd_keyring = o->rbd_keyring };
	json_t *ci = cb_connection_info_load(o->connection_info);

	if (!ci)
		return -1;
	st->backend = cb_backend_open(ci, &oo);
	json_decref(ci);
	if (!st->backend)
		return -1;
	if (o->nbd && start_nbd(st, o) == -1)
		return -1;
	if (o->fuse && start_fuse(st, o) == -1)
		return -1;
	if (o->pidfile && write_pidfile(st, o->pidfile) == -1)
		return -1;
	return 0;
}

/* Waits for a stop signal.  A loop device that is still in use (a mounted
 * filesystem) cannot go away without failing that filesystem's I/O, so
 * then the export keeps serving and says why until the next signal. */
static void wait_until_detachable(struct export_state *st, const sigset_t *sigs)
{
	int sig;

	for (;;) {
		while (sigwait(sigs, &sig) != 0)
			;
		if (!st->loop_dev[0] || loop_detach(st->loop_dev) == 0)
			break;
		cli_error("%s; still serving %s", cb_get_error(), st->loop_dev);
	}
	st->loop_dev[0] = '\0';
}

static void print_endpoints(const struct export_state *st)
{
	if (st->server)
		printf("nbd: %s\n", st->nbd_uri);
	if (st->fuse)
		printf("fuse: %s\n", fuse_export_file(st->fuse));
	if (st->loop_dev[0])
		printf("loop: %s\n", st->loop_dev);
	fflush(stdout);
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	/* Every thread inherits this mask, so only sigwait() sees them. */
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { 0 };
	struct export_state st = { 0 };
	sigset_t sigs;

	if (parse_args(argc, argv, &o) == -1)
		return EXIT_USAGE;
	cli_log_init(o.verbose);
	if (!o.foreground)
		cli_daemon_fork();
	block_signals(&sigs);
	if (start(&st, &o) == -1) {
		cli_error("%s", cb_get_error());
		teardown(&st, &o);
		cli_daemon_failed(EXIT_FAILURE_RUNTIME);
		return EXIT_FAILURE_RUNTIME;
	}
	print_endpoints(&st);
	cli_daemon_ready();
	wait_until_detachable(&st, &sigs);
	return teardown(&st, &o);
}
