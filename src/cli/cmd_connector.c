/* cinder-brick get-connector: the connector local-attach sends to Cinder. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "host/connector.h"
#include "host/initiator.h"
#include "lib/error.h"

#define CMD "get-connector"

static void help(void)
{
	printf("Usage: %s get-connector [--multipath] [--enforce-multipath] [--nic IF] [--json]\n"
	       "\n"
	       "Print the connector local-attach sends to Cinder: the fields of os-brick's\n"
	       "get_connector_properties() for this host.\n"
	       "\n"
	       "  --multipath          set \"multipath\": true\n"
	       "  --enforce-multipath  set \"enforce_multipath\": true\n"
	       "  --nic IF             take \"ip\" from interface IF (default: the interface of\n"
	       "                       the default route, else 127.0.0.1)\n"
	       "  --json               print a JSON object instead of \"key: value\" lines\n"
	       "\n"
	       "\"initiator\" is the IQN of %s, else one generated once and kept\n"
	       "in %s.  \"uuid\" (root filesystem, from /dev/disk/by-uuid)\n"
	       "and \"nqn\" (/etc/nvme/hostnqn) are left out when this host has none.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n",
	       program_name, "/etc/iscsi/initiatorname.iscsi", CB_INITIATOR_FILE);
}

static void print_lines(const json_t *c)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)c, key, v) {
		if (json_is_string(v))
			printf("%s: %s\n", key, json_string_value(v));
		else
			printf("%s: %s\n", key, json_is_true(v) ? "true" : "false");
	}
}

int cmd_get_connector(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_HELP };
	static const struct option own[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[CLI_LONGOPTS_MAX];
	struct cb_connector_opts o = { 0 };
	bool as_json = false;
	json_t *c;
	int opt;

	cli_longopts(longopts, own, CLI_WITH_CONNECTOR);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: as_json = true; break;
		case OPT_HELP: help(); return EXIT_OK;
		default:
			if (cli_connector_option(opt, optarg, &o))
				break;
			cli_bad_option(CMD, argv);
			return EXIT_USAGE;
		}
	}
	if (cli_no_arguments(CMD, argc, argv) == -1)
		return EXIT_USAGE;
	c = cb_connector_get(&o);
	if (!c) {
		cli_error("%s", cb_get_error());
		return EXIT_FAILURE_RUNTIME;
	}
	if (as_json)
		cli_print_json(c);
	else
		print_lines(c);
	json_decref(c);
	return EXIT_OK;
}
