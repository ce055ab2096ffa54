/* cinder-brick reattach: the command line of cb_engine_reattach. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engine/engine.h"
#include "lib/error.h"

#define CMD "reattach"

static void help(void)
{
	printf("Usage: %s reattach [OPTIONS] VOLUME | --all\n"
	       "\n"
	       "Serve again the /dev/nbdN of a volume local-attach attached, after its serving\n"
	       "process died (killed, crashed, upgraded).  The kernel keeps the device for its\n"
	       "dead-connection timeout (local-attach --dead-conn-timeout, default 30 s), its\n"
	       "I/O waiting; a reattach within that time lets the waiting I/O complete, with no\n"
	       "error to the filesystem.  The volume is reopened from the connection_info\n"
	       "Cinder gives again.\n"
	       "\n"
	       "  --all   every attachment recorded here whose serving process is gone (for a\n"
	       "          service manager to run at start); those still served are skipped\n"
	       "  --allow-local-path DIR\n"
	       "          as for local-attach: the volume's local path is checked again\n"
	       "\n", program_name);
	cli_os_help();
	printf("\nRefused, changing nothing: while the old serving process still runs, when\n"
	       "the device carries another attachment's identifier (/sys/block/nbdN/backend),\n"
	       "once the device is gone, and for FUSE exports, which end with their process.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

enum { OPT_ALL = 256 };

struct reattach_args {
	struct cb_reattach_opts *o;
	struct cli_local_paths *local;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct reattach_args *a = ctx;
	int r;

	if (opt == OPT_ALL) {
		a->o->all = true;
		return 0;
	}
	return cli_local_path_option(CMD, opt, arg, a->local, &r) ? r : 1;
}

static int parse_args(int argc, char **argv, struct cb_reattach_opts *o,
		      struct cb_os_config *cfg, struct cli_local_paths *local)
{
	static const struct option own[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "help", no_argument, NULL, CLI_OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct reattach_args a = { o, local };

	if (cli_getopt_cinder(CMD, argc, argv, own, CLI_WITH_LOCAL_PATHS, help, on_opt, &a,
			      cfg) == -1)
		return -1;
	if (o->all)
		return cli_no_arguments(CMD, argc, argv);
	return cli_take_volume(CMD, argc, argv, &o->volume);
}

static int reattach(const struct cb_reattach_opts *o, const struct cb_os_config *cfg,
		    const struct cli_local_paths *local)
{
	struct cb_engine_opts eo = { .local_paths = local->paths };
	struct cb_engine *e = cb_engine_new(&eo);
	int ret = e ? cb_engine_reattach(e, cfg, o) : -1;

	if (ret == -1)
		cli_error("%s", cb_get_error());
	cb_engine_free(e);
	return ret == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

int cmd_reattach(int argc, char **argv)
{
	struct cb_reattach_opts o = { 0 };
	struct cli_local_paths local = { 0 };
	struct cb_os_config cfg;
	int ret = EXIT_USAGE;

	cb_os_config_init(&cfg);
	if (parse_args(argc, argv, &o, &cfg, &local) == 0) {
		cli_log_init(cfg.debug);
		ret = cli_os_resolve(&cfg) == 0 ? reattach(&o, &cfg, &local) :
						  EXIT_FAILURE_RUNTIME;
	}
	cb_os_config_free(&cfg);
	return ret;
}
