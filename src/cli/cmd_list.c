/* cinder-brick list: the volumes local-attach attached, from the local
 * state alone (no Cinder call), with a health check of each. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "lib/error.h"
#include "serve.h"
#include "state.h"

#define CMD "list"

static void help(void)
{
	printf("Usage: %s list [--json]\n"
	       "\n"
	       "List the volumes attached to this host by local-attach, from " STATE_DIR ":\n"
	       "volume, attachment, device, backend, serving pid and health: \"ok\" when the\n"
	       "serving process runs and the device exists, else \"dead\" (local-detach --force\n"
	       "cleans up) or \"no-device\".\n"
	       "\n"
	       "  --json  print a JSON array of the saved states, each with \"alive\" and\n"
	       "          \"device_present\"\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n", program_name);
}

static void add_health(json_t *st)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	struct stat sb;
	bool alive = serve_alive(pid, cli_str(st, "fuse_file", "-"));
	bool present = stat(cli_str(st, "device", "-"), &sb) == 0 && S_ISBLK(sb.st_mode);

	json_object_set_new(st, "alive", json_boolean(alive));
	json_object_set_new(st, "device_present", json_boolean(present));
	json_object_set_new(st, "health", json_string(!alive ? "dead" :
						      present ? "ok" : "no-device"));
}

static void print_table(const json_t *all)
{
	size_t i;
	json_t *st;

	printf("%-36s  %-36s  %-12s  %-7s  %7s  %s\n", "VOLUME", "ATTACHMENT", "DEVICE",
	       "BACKEND", "PID", "HEALTH");
	json_array_foreach(all, i, st)
		printf("%-36s  %-36s  %-12s  %-7s  %7lld  %s\n", cli_str(st, "volume_id", "-"),
		       cli_str(st, "attachment_id", "-"), cli_str(st, "device", "-"), cli_str(st, "backend", "-"),
		       (long long)json_integer_value(json_object_get(st, "pid")),
		       cli_str(st, "health", "-"));
}

int cmd_list(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_HELP };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	json_t *all, *st;
	size_t i;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: as_json = true; break;
		case OPT_HELP: help(); return EXIT_OK;
		default:
			cli_bad_option(CMD, argv);
			return EXIT_USAGE;
		}
	}
	if (cli_no_arguments(CMD, argc, argv) == -1)
		return EXIT_USAGE;
	all = state_list();
	if (!all) {
		cli_error("%s", cb_get_error());
		return EXIT_FAILURE_RUNTIME;
	}
	json_array_foreach(all, i, st)
		add_health(st);
	if (as_json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_table(all);
	}
	json_decref(all);
	return EXIT_OK;
}
