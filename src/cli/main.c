/* cinder-brick: attach Cinder volumes to this host in userspace. */
#include <config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"

const char *program_name = "cinder-brick";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "local-attach", cmd_local_attach, "attach a Cinder volume to this host" },
	{ "local-detach", cmd_local_detach, "detach a volume local-attach attached" },
	{ "reattach", cmd_reattach, "serve again the /dev/nbdN of a dead serving process" },
	{ "resize", cmd_resize, "grow a volume's device after Cinder extended it" },
	{ "list", cmd_list, "list the volumes attached to this host" },
	{ "get-connector", cmd_get_connector, "print the connector this host sends to Cinder" },
	{ "export", cmd_export, "serve a volume from its connection_info over NBD and/or FUSE" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s COMMAND [OPTIONS]\n\nCommands:\n", program_name);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun '%s COMMAND --help' for the options of a command.\n"
		"Exit status: 0 success, 1 failure, 2 bad usage.\n", program_name);
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", program_name, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", program_name, cmd);
}

void cli_bad_option(const char *cmd, char **argv)
{
	cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
}

int cli_take_volume(const char *cmd, int argc, char **argv, const char **volume)
{
	if (optind != argc - 1) {
		cli_usage_error(cmd, optind < argc ? "one VOLUME only" : "VOLUME is required");
		return -1;
	}
	*volume = argv[optind];
	return 0;
}

int cli_no_arguments(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

void cli_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* A count still pending as a command ends (a warning repeated while it
 * attached, an error while it served) is logged, not lost. */
static int run(const struct command *c, int argc, char **argv)
{
	int status = c->run(argc, argv);

	cb_log_flush();
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", program_name, PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return run(&commands[i], argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
