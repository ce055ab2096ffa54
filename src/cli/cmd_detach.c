/* cinder-brick local-detach: the command line of cb_engine_detach. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engine/engine.h"
#include "lib/error.h"

#define CMD "local-detach"

static void help(void)
{
	printf("Usage: %s local-detach [--attachment-id ID] [--force] [OPTIONS] VOLUME\n"
	       "\n"
	       "Detach the volume VOLUME (an ID or a unique name) that local-attach attached:\n"
	       "stop its serving process (which flushes, then detaches the loop device and\n"
	       "the FUSE file), then end the attachment in Cinder: delete it (microversion\n"
	       "3.44+), or os-begin_detaching, os-terminate_connection and os-detach (legacy,\n"
	       "rolled back with os-roll_detaching on failure).  The volume becomes available.\n"
	       "\n"
	       "  --attachment-id ID  the Cinder attachment to end, when there is no local\n"
	       "                      state and the volume has several attachments\n"
	       "  --force             clean up after a serving process that died: stale state,\n"
	       "                      leftover loop device and FUSE mount; kill one that does\n"
	       "                      not exit.  Never forces a mounted device.\n"
	       "\n", program_name);
	cli_os_help();
	printf("\nRefuses, changing nothing, while the device is mounted: unmount it first.\n"
	       "Without local state (" CB_ENGINE_STATE_DIR "/VOLUME_ID.json) it works from\n"
	       "Cinder's attachment list.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

enum { OPT_ATT = 256, OPT_FORCE };

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct cb_detach_opts *o = ctx;

	switch (opt) {
	case OPT_ATT: o->attachment_id = arg; return 0;
	case OPT_FORCE: o->force = true; return 0;
	default: return 1;
	}
}

static int parse_args(int argc, char **argv, struct cb_detach_opts *o,
		      struct cb_os_config *cfg)
{
	static const struct option own[] = {
		{ "attachment-id", required_argument, NULL, OPT_ATT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, CLI_OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};

	if (cli_getopt_cinder(CMD, argc, argv, own, 0, help, on_opt, o, cfg) == -1)
		return -1;
	return cli_take_volume(CMD, argc, argv, &o->volume);
}

static int detach(const struct cb_detach_opts *o, const struct cb_os_config *cfg)
{
	struct cb_engine *e = cb_engine_new(NULL);
	int ret = e ? cb_engine_detach(e, cfg, o) : -1;

	if (ret == -1)
		cli_error("%s", cb_get_error());
	cb_engine_free(e);
	return ret == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

int cmd_local_detach(int argc, char **argv)
{
	struct cb_detach_opts o = { 0 };
	struct cb_os_config cfg;
	int ret = EXIT_USAGE;

	cb_os_config_init(&cfg);
	if (parse_args(argc, argv, &o, &cfg) == 0) {
		cli_log_init(cfg.debug);
		ret = cli_os_resolve(&cfg) == 0 ? detach(&o, &cfg) : EXIT_FAILURE_RUNTIME;
	}
	cb_os_config_free(&cfg);
	return ret;
}
