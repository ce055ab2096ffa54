/* cinder-brick export: serve one volume from its connection_info, until
 * a stop signal.  The serving itself is the engine's (engine/export.h). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
	bool kernel_nbd;
	struct cb_kernel_nbd_opts kernel;
	bool read_only;
	bool direct_io;
	bool multipath, enforce_multipath;
	const char *export_name;
	const char *pidfile;
	unsigned stop_grace;		/* seconds; 0 for the default */
	json_t *backend_options;	/* {"rbd.keyring": FILE, ...}, or NULL */
	bool foreground;
	bool verbose;
};

static void export_help(void)
{
	printf("Usage: %s export --connection-info FILE|- [--nbd unix:PATH | --nbd tcp:HOST:PORT]\n"
	       "                     [--fuse MOUNTPOINT [--loop]] [--kernel-nbd [--device /dev/nbdN]\n"
	       "                     [--connections N] [--io-timeout S] [--dead-conn-timeout S]\n"
	       "                     [--nbd-interface netlink|ioctl]]\n"
	       "                     [--read-only] [--direct-io] [--multipath [--enforce-multipath]]\n"
	       "                     [--export-name NAME] [--pidfile FILE] [--rbd-keyring FILE]\n"
	       "                     [--backend-option NAME=VALUE]... [--stop-grace S]\n"
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
	       "  --kernel-nbd            serve the volume as /dev/nbdN through the kernel's\n"
	       "                          own NBD client (needs the nbd module), tuned by:\n",
	       program_name);
	printf("  --device /dev/nbdN      the nbd device to use (default: a free one, which\n"
	       "                          the kernel picks)\n");
	cli_kernel_nbd_help();
	printf("  --nbd-interface netlink|ioctl\n"
	       "                          how to talk to the kernel (default: netlink when the\n"
	       "                          kernel has it; an ioctl device ends with its server)\n"
	       "  --read-only             refuse writes\n"
	       "  --direct-io             open the backing file with O_DIRECT (no host page cache)\n"
	       "  --multipath             iSCSI: log in on every path the connection_info lists\n"
	       "                          (target_portals) and fail over between them\n"
	       "  --enforce-multipath     iSCSI: refuse to serve unless two paths or more log in\n"
	       "  --export-name NAME      the only NBD export name accepted (default: any)\n"
	       "  --pidfile FILE          write the serving process's pid once ready\n"
	       "  --rbd-keyring FILE      Ceph keyring for an rbd volume, instead of the\n"
	       "                          connection_info's \"keyring\" or\n"
	       "                          /etc/ceph/<cluster>.client.<user>.keyring\n"
	       "                          (the same as --backend-option rbd.keyring=FILE)\n"
	       "  --backend-option NAME=VALUE  a setting of one backend, NAME being\n"
	       "                          BACKEND.OPTION; repeatable; options of other\n"
	       "                          backends than the volume's are ignored:\n");
	cli_backend_options_help();
	printf("  --stop-grace S          seconds a stop waits for the storage to answer the\n"
	       "                          requests in flight (default %d); past them, those\n"
	       "                          fail with EIO, the device goes and the process exits 1\n"
	       "  --foreground            do not daemonise\n"
	       "  --verbose               log per-client events\n"
	       "\n"
	       "Prints one line per endpoint once ready: \"nbd: URI\", \"fuse: FILE\",\n"
	       "\"loop: DEVICE\", \"nbd: /dev/nbdN\".\n"
	       "Without --foreground the command returns once the export is ready.\n"
	       "SIGUSR1 makes it ask the volume for its size and grow every endpoint to it\n"
	       "(after the volume was extended; shrinking is refused).\n"
	       "SIGINT and SIGTERM are refused while the block device is in use (mounted).\n"
	       "Exit status: 0 success, 1 failure (a stop cut short included), 2 bad usage.\n",
	       CB_EXPORT_DEFAULT_STOP_GRACE);
}

static int parse_device(const char *arg, struct cb_kernel_nbd_opts *o)
{
	const char *n = strncmp(arg, "/dev/nbd", 8) == 0 ? arg + 8 : "";
	char *end;

	errno = 0;
	o->index = (int)strtol(n, &end, 10);
	if (!*n || *end || errno || o->index < 0 || o->index > 65535) {
		cli_usage_error(CMD, "--device takes /dev/nbdN, not '%s'", arg);
		return -1;
	}
	return 0;
}

static int parse_interface(const char *arg, struct cb_kernel_nbd_opts *o)
{
	if (strcmp(arg, "netlink") == 0) {
		o->interface = KERNEL_NBD_NETLINK;
	} else if (strcmp(arg, "ioctl") == 0) {
		o->interface = KERNEL_NBD_IOCTL;
	} else {
		cli_usage_error(CMD, "--nbd-interface is netlink or ioctl, not '%s'", arg);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_CI = 256, OPT_NBD, OPT_FUSE, OPT_LOOP, OPT_KERNEL, OPT_DEVICE,
	       OPT_INTERFACE, OPT_RO, OPT_DIRECT, OPT_MULTIPATH, OPT_ENFORCE_MULTIPATH,
	       OPT_NAME, OPT_PIDFILE, OPT_KEYRING, OPT_BACKEND_OPTION, OPT_STOP_GRACE, OPT_FG,
	       OPT_VERBOSE, OPT_HELP };
	static const struct option own[] = {
		{ "connection-info", required_argument, NULL, OPT_CI },
		{ "nbd", required_argument, NULL, OPT_NBD },
		{ "fuse", required_argument, NULL, OPT_FUSE },
		{ "loop", no_argument, NULL, OPT_LOOP },
		{ "kernel-nbd", no_argument, NULL, OPT_KERNEL },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "nbd-interface", required_argument, NULL, OPT_INTERFACE },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "direct-io", no_argument, NULL, OPT_DIRECT },
		{ "multipath", no_argument, NULL, OPT_MULTIPATH },
		{ "enforce-multipath", no_argument, NULL, OPT_ENFORCE_MULTIPATH },
		{ "export-name", required_argument, NULL, OPT_NAME },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "rbd-keyring", required_argument, NULL, OPT_KEYRING },
		{ "backend-option", required_argument, NULL, OPT_BACKEND_OPTION },
		{ "stop-grace", required_argument, NULL, OPT_STOP_GRACE },
		{ "foreground", no_argument, NULL, OPT_FG },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[CLI_LONGOPTS_MAX];
	bool kernel_option = false;
	int opt, r;

	cli_longopts(longopts, own, CLI_WITH_KERNEL_NBD);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CI: o->connection_info = optarg; break;
		case OPT_NBD: o->nbd = optarg; break;
		case OPT_FUSE: o->fuse = optarg; break;
		case OPT_LOOP: o->loop = true; break;
		case OPT_KERNEL: o->kernel_nbd = true; break;
		case OPT_DEVICE:
			if (parse_device(optarg, &o->kernel) == -1)
				return -1;
			kernel_option = true;
			break;
		case OPT_INTERFACE:
			if (parse_interface(optarg, &o->kernel) == -1)
				return -1;
			kernel_option = true;
			break;
		case OPT_RO: o->read_only = true; break;
		case OPT_DIRECT: o->direct_io = true; break;
		case OPT_MULTIPATH: o->multipath = true; break;
		case OPT_ENFORCE_MULTIPATH: o->enforce_multipath = true; break;
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
		case OPT_STOP_GRACE:
			if (cli_stop_grace_option(CMD, optarg, &o->stop_grace) == -1)
				return -1;
			break;
		case OPT_FG: o->foreground = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_HELP: export_help(); exit(EXIT_OK);
		default:
			if (!cli_kernel_nbd_option(CMD, opt, optarg, &o->kernel, &r)) {
				cli_bad_option(CMD, argv);
				return -1;
			}
			if (r == -1)
				return -1;
			kernel_option = true;
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
	if (!o->nbd && !o->fuse && !o->kernel_nbd) {
		cli_usage_error(CMD, "nothing to serve: give --nbd, --fuse or --kernel-nbd");
		return -1;
	}
	if (kernel_option && !o->kernel_nbd) {
		cli_usage_error(CMD, "--device, --connections, --io-timeout, --dead-conn-timeout "
				"and --nbd-interface go with --kernel-nbd");
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
		printf("%s: %s\n", cb_export_device_is_nbd(x) ? "nbd" : "loop",
		       cb_export_device(x));
	fflush(stdout);
}

static struct cb_export *start(const struct export_opts *o, const json_t *ci)
{
	struct cb_export_opts xo = {
		.connection_info = ci, .backend_options = o->backend_options,
		.read_only = o->read_only, .direct_io = o->direct_io, .nbd = o->nbd,
		.multipath = o->multipath, .enforce_multipath = o->enforce_multipath,
		.export_name = o->export_name, .fuse = o->fuse, .loop = o->loop,
		.kernel_nbd = o->kernel_nbd ? &o->kernel : NULL,
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
	struct cli_serve_opts so = { .pidfile = o->pidfile, .stop_grace = o->stop_grace };
	struct cb_export *x;
	sigset_t sigs;

	if (!o->foreground)
		cli_daemon_fork();
	cli_block_stop_signals(&sigs);
	cli_tune_malloc();
	x = start(o, ci);
	if (!x) {
		cli_daemon_failed(EXIT_FAILURE_RUNTIME);
		return EXIT_FAILURE_RUNTIME;
	}
	print_endpoints(x);
	cli_daemon_ready();
	return cli_serve_until_stopped(x, &sigs, &so);
}

/* The kernel keeps it in /sys/block/nbdN/backend: a device served by one
 * export is never mistaken for another's. */
static int make_identifier(char *buf, size_t len)
{
	unsigned char r[8];

	if (getrandom(r, sizeof r, 0) != sizeof r) {
		cli_error("getrandom: %s", strerror(errno));
		return -1;
	}
	snprintf(buf, len, "cinder-brick-export-%02x%02x%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { .kernel = { .index = -1 } };
	char identifier[64];
	int status = EXIT_USAGE;
	json_t *ci;

	if (parse_args(argc, argv, &o) == 0) {
		cli_log_init(o.verbose);
		if (make_identifier(identifier, sizeof identifier) == -1)
			return EXIT_FAILURE_RUNTIME;
		o.kernel.identifier = identifier;
		ci = read_connection_info(o.connection_info);
		status = ci ? serve(&o, ci) : EXIT_FAILURE_RUNTIME;
		json_decref(ci);
	}
	json_decref(o.backend_options);
	return status;
}
