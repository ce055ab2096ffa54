/* cinder-brick local-attach: the command line of cb_engine_attach. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "cli.h"
#include "engine/engine.h"
#include "engine/export.h"
#include "lib/error.h"

#define CMD "local-attach"

struct attach_args {
	struct cb_attach_opts attach;
	struct cb_os_config cfg;
	struct cli_local_paths local;
	json_t *backend_options;
	struct cb_kernel_nbd_opts nbd;
	bool json;
};

static void help(void)
{
	printf("Usage: %s local-attach [OPTIONS] VOLUME\n"
	       "\n"
	       "Attach the Cinder volume VOLUME (an ID or a unique name) to this host as a\n"
	       "block device, with no Nova: ask Cinder for the connection, open the volume in\n"
	       "userspace (driver types: %s), serve it as /dev/nbdN (or a FUSE file with a\n"
	       "loop device over it, see --export), then tell Cinder it is attached.  Prints\n"
	       "the device (e.g. /dev/nbd0).  The serving process runs detached, one per\n"
	       "attachment, until local-detach.\n"
	       "\n"
	       "  --mode rw|ro           read-write (default) or read-only: Cinder records the\n"
	       "                         mode (microversion 3.54+ or legacy), the device refuses\n"
	       "                         writes\n"
	       "  --export auto|nbd|fuse how to make the block device: nbd = /dev/nbdN, served\n"
	       "                         to the kernel's NBD client; fuse = FUSE file + loop\n"
	       "                         device; auto (default) = nbd where the kernel has the\n"
	       "                         nbd module, else fuse\n"
	       "  --connections N, --io-timeout S, --dead-conn-timeout S\n"
	       "                         for nbd, as for export (see 'export --help'); the\n"
	       "                         timeouts are recorded, and a reattach gives them again\n"
	       "  --stop-grace S         seconds local-detach waits for the storage to answer\n"
	       "                         the requests in flight (default %d); past them, those\n"
	       "                         fail with EIO and the device goes; recorded, as above\n"
	       "  --mountpoint PATH      the mountpoint recorded by Cinder's legacy os-attach\n"
	       "                         (default: the device)\n"
	       "  --multipath, --enforce-multipath, --nic IF\n"
	       "                         connector fields, as for get-connector\n"
	       "  --rbd-keyring FILE     Ceph keyring for rbd volumes, instead of the one Cinder\n"
	       "                         sends or /etc/ceph/<cluster>.client.<user>.keyring\n"
	       "  --backend-option NAME=VALUE\n"
	       "                         a setting of the backend that opens the volume (as\n"
	       "                         for export; see 'export --help'); repeatable\n"
	       "  --allow-local-path DIR a volume Cinder gives as a local path (driver type\n"
	       "                         local) may be a file or block device under DIR\n"
	       "                         (repeatable; also one DIR a line in\n"
	       "                         " CB_SYSCONFDIR "/cinder-brick/local-paths).  Without\n"
	       "                         any, local paths from Cinder are refused; /proc, /sys\n"
	       "                         and character devices always are\n"
	       "  --json                 print volume_id, attachment_id, device, fuse_file, pid,\n"
	       "                         backend, export, flow, microversion, mountpoint, mode\n"
	       "                         and stop_grace as JSON\n"
	       "\n", program_name, cb_backend_type_list(), CB_EXPORT_DEFAULT_STOP_GRACE);
	cli_os_help();
	printf("\nThe volume must be available (or in-use and multiattach) and not attached\n"
	       "here already.  State is kept in " CB_ENGINE_STATE_DIR "/VOLUME_ID.json.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static int parse_mode(const char *arg, struct attach_args *a)
{
	if (strcmp(arg, "rw") != 0 && strcmp(arg, "ro") != 0) {
		cli_usage_error(CMD, "--mode is rw or ro, not '%s'", arg);
		return -1;
	}
	a->attach.mode = arg;
	return 0;
}

static int parse_export(const char *arg, struct attach_args *a)
{
	static const struct { const char *name; enum cb_export_kind kind; } kinds[] = {
		{ "auto", CB_EXPORT_AUTO }, { "fuse", CB_EXPORT_FUSE }, { "nbd", CB_EXPORT_NBD },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(arg, kinds[i].name) == 0) {
			a->attach.export_kind = kinds[i].kind;
			return 0;
		}
	cli_usage_error(CMD, "--export is auto, nbd or fuse, not '%s'", arg);
	return -1;
}

static int parse_args(int argc, char **argv, struct attach_args *a)
{
	enum { OPT_MOUNT = 256, OPT_MODE, OPT_EXPORT, OPT_KEYRING, OPT_BACKEND_OPTION,
	       OPT_STOP_GRACE, OPT_JSON, OPT_HELP };
	static const struct option own[] = {
		{ "mountpoint", required_argument, NULL, OPT_MOUNT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "rbd-keyring", required_argument, NULL, OPT_KEYRING },
		{ "backend-option", required_argument, NULL, OPT_BACKEND_OPTION },
		{ "stop-grace", required_argument, NULL, OPT_STOP_GRACE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[CLI_LONGOPTS_MAX];
	int opt, r = 0;

	cli_longopts(longopts, own, CLI_WITH_CONNECTOR | CLI_WITH_OS | CLI_WITH_KERNEL_NBD |
		     CLI_WITH_LOCAL_PATHS);
	opterr = 0;
	while (r == 0 && (opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_MOUNT: a->attach.mountpoint = optarg; break;
		case OPT_MODE: r = parse_mode(optarg, a); break;
		case OPT_EXPORT: r = parse_export(optarg, a); break;
		case OPT_KEYRING:
			r = cli_backend_option_set(CMD, &a->backend_options, "rbd.keyring",
						   optarg);
			break;
		case OPT_BACKEND_OPTION:
			r = cli_backend_option(CMD, &a->backend_options, optarg);
			break;
		case OPT_STOP_GRACE:
			r = cli_stop_grace_option(CMD, optarg, &a->attach.stop_grace);
			break;
		case OPT_JSON: a->json = true; break;
		case OPT_HELP: help(); exit(EXIT_OK);
		case '?':
			cli_bad_option(CMD, argv);
			return -1;
		default:
			if (!cli_connector_option(opt, optarg, &a->attach.connector) &&
			    !cli_kernel_nbd_option(CMD, opt, optarg, &a->nbd, &r) &&
			    !cli_local_path_option(CMD, opt, optarg, &a->local, &r))
				r = cli_os_option(CMD, &a->cfg, opt, optarg);
		}
	}
	if (r == -1)
		return -1;
	a->attach.connections = a->nbd.connections;
	a->attach.io_timeout = a->nbd.io_timeout;
	a->attach.dead_conn_timeout = a->nbd.dead_conn_timeout;
	if (cb_backend_options_check(a->backend_options) == -1) {
		cli_usage_error(CMD, "%s", cb_get_error());
		return -1;
	}
	return cli_take_volume(CMD, argc, argv, &a->attach.volume);
}

static int attach(struct attach_args *a)
{
	struct cb_engine_opts eo = { .local_paths = a->local.paths };
	struct cb_engine *e = cb_engine_new(&eo);
	struct cb_attachment att;
	json_t *out;

	if (!e) {
		cli_error("%s", cb_get_error());
		return EXIT_FAILURE_RUNTIME;
	}
	a->attach.backend_options = a->backend_options;
	if (cb_engine_attach(e, &a->cfg, &a->attach, &att) == -1) {
		cli_error("%s", cb_get_error());
		cb_engine_free(e);
		return EXIT_FAILURE_RUNTIME;
	}
	if (a->json && (out = cb_attachment_to_json(&att))) {
		json_object_del(out, "connector");
		cli_print_json(out);
		json_decref(out);
	} else {
		printf("%s\n", att.device);
	}
	cb_attachment_clear(&att);
	cb_engine_free(e);
	return EXIT_OK;
}

int cmd_local_attach(int argc, char **argv)
{
	struct attach_args a = { 0 };
	int ret = EXIT_USAGE;

	cb_os_config_init(&a.cfg);
	if (parse_args(argc, argv, &a) == 0) {
		cli_log_init(a.cfg.debug);
		ret = cli_os_resolve(&a.cfg) == 0 ? attach(&a) : EXIT_FAILURE_RUNTIME;
	}
	json_decref(a.backend_options);
	cb_os_config_free(&a.cfg);
	return ret;
}
