/* cinder-brick resize: the command line of cb_engine_resize. */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engine/engine.h"
#include "lib/error.h"

#define CMD "resize"

static void help(void)
{
	printf("Usage: %s resize [OPTIONS] VOLUME\n"
	       "\n"
	       "Grow the device of VOLUME (an ID or a unique name), attached here by\n"
	       "local-attach, to the size Cinder now gives the volume: run it after\n"
	       "'cinder extend' of the in-use volume, which Cinder announces to no one when\n"
	       "the attachment has no instance.  The serving process asks the backend for the\n"
	       "volume's new size and grows the device online (/dev/nbdN, or the FUSE file\n"
	       "and its loop device); then grow the filesystem, e.g. resize2fs DEVICE.\n"
	       "Prints the device's new size in bytes.\n"
	       "\n", program_name);
	cli_os_help();
	printf("\nShrinking is refused.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static int parse_args(int argc, char **argv, const char **volume, struct cb_os_config *cfg)
{
	static const struct option own[] = {
		{ "help", no_argument, NULL, CLI_OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};

	if (cli_getopt_cinder(CMD, argc, argv, own, 0, help, NULL, NULL, cfg) == -1)
		return -1;
	return cli_take_volume(CMD, argc, argv, volume);
}

static int resize(const char *volume, const struct cb_os_config *cfg)
{
	struct cb_engine *e = cb_engine_new(NULL);
	uint64_t size = 0;
	int ret = e ? cb_engine_resize(e, cfg, volume, &size) : -1;

	if (ret == -1)
		cli_error("%s", cb_get_error());
	else
		printf("%" PRIu64 "\n", size);
	cb_engine_free(e);
	return ret == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

int cmd_resize(int argc, char **argv)
{
	struct cb_os_config cfg;
	const char *volume = NULL;
	int ret = EXIT_USAGE;

	cb_os_config_init(&cfg);
	if (parse_args(argc, argv, &volume, &cfg) == 0) {
		cli_log_init(cfg.debug);
		ret = cli_os_resolve(&cfg) == 0 ? resize(volume, &cfg) : EXIT_FAILURE_RUNTIME;
	}
	cb_os_config_free(&cfg);
	return ret;
}
