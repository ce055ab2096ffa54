/* cinder-brick list: the volumes local-attach attached, from the local
 * state alone (no Cinder call), with the health of each. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "engine/engine.h"
#include "lib/error.h"

#define CMD "list"

static void help(void)
{
	printf("Usage: %s list [--json]\n"
	       "\n"
	       "List the volumes attached to this host by local-attach, from\n"
	       CB_ENGINE_STATE_DIR ": volume, attachment, device, export (nbd: /dev/nbdN;\n"
	       "fuse: a loop device over a FUSE file), backend, serving pid and health:\n"
	       "\"ok\" when the serving process runs and the device is still the\n"
	       "attachment's, else \"dead\" (reattach it, for nbd within its dead-connection\n"
	       "timeout, or local-detach --force cleans up) or \"no-device\".\n"
	       "\n"
	       "  --json  print a JSON array of the saved states, each with \"alive\",\n"
	       "          \"device_present\" and \"health\", and for an iSCSI volume\n"
	       "          \"paths\": each path's portal, state (up or down), since when\n"
	       "          (seconds since the epoch) and, when down, the last error\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n", program_name);
}

static void print_table(const struct cb_attachment *atts,
			const struct cb_attachment_health *health, size_t n)
{
	printf("%-36s  %-36s  %-12s  %-6s  %-7s  %7s  %s\n", "VOLUME", "ATTACHMENT",
	       "DEVICE", "EXPORT", "BACKEND", "PID", "HEALTH");
	for (size_t i = 0; i < n; i++)
		printf("%-36s  %-36s  %-12s  %-6s  %-7s  %7ld  %s\n", atts[i].volume_id,
		       atts[i].attachment_id[0] ? atts[i].attachment_id : "-", atts[i].device,
		       atts[i].export_kind, atts[i].backend, (long)atts[i].pid,
		       cb_attachment_health_text(&health[i]));
}

static int print_json(const struct cb_attachment *atts,
		      const struct cb_attachment_health *health, size_t n)
{
	json_t *all = json_array();

	for (size_t i = 0; all && i < n; i++) {
		json_t *st = cb_attachment_to_json(&atts[i]);

		if (!st || json_object_set_new(st, "alive", json_boolean(health[i].alive)) ||
		    json_object_set_new(st, "device_present",
					json_boolean(health[i].device_present)) ||
		    json_object_set_new(st, "health",
					json_string(cb_attachment_health_text(&health[i]))) ||
		    (health[i].paths && json_object_set(st, "paths", health[i].paths)) ||
		    json_array_append_new(all, st)) {
			json_decref(all);
			all = NULL;
		}
	}
	if (!all) {
		cli_error("out of memory");
		return EXIT_FAILURE_RUNTIME;
	}
	cli_print_json(all);
	json_decref(all);
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, bool *as_json)
{
	enum { OPT_JSON = 256, OPT_HELP };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: *as_json = true; break;
		case OPT_HELP: help(); exit(EXIT_OK);
		default:
			cli_bad_option(CMD, argv);
			return -1;
		}
	}
	return cli_no_arguments(CMD, argc, argv);
}

int cmd_list(int argc, char **argv)
{
	struct cb_engine *e;
	struct cb_attachment *atts = NULL;
	struct cb_attachment_health *health = NULL;
	bool as_json = false;
	size_t n = 0;
	int ret = EXIT_FAILURE_RUNTIME;

	if (parse_args(argc, argv, &as_json) == -1)
		return EXIT_USAGE;
	e = cb_engine_new(NULL);
	if (!e || cb_engine_list(e, &atts, &health, &n) == -1) {
		cli_error("%s", cb_get_error());
	} else if (as_json) {
		ret = print_json(atts, health, n);
	} else {
		print_table(atts, health, n);
		ret = EXIT_OK;
	}
	cb_engine_list_free(atts, health, n);
	cb_engine_free(e);
	return ret;
}
