/* The OpenStack options shared by the commands that talk to Cinder.
 *
 * The names come from the library's table (cb_os_config_option), so a
 * setting added there is a flag here without a second list to keep in
 * step: "auth_url" is --os-auth-url; "insecure" is the bare --insecure
 * switch, as in openstackclient.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/error.h"

#define MAX_OS_OPTS 48

static char names[MAX_OS_OPTS][48];

static bool is_switch(const char *name)
{
	return strcmp(name, "insecure") == 0;
}

size_t cli_os_longopts(struct option *out)
{
	const char *name;
	unsigned int i;
	size_t n = 0;

	for (i = 0; (name = cb_os_config_option(i, NULL)) && i < MAX_OS_OPTS; i++) {
		char *p = names[i];

		snprintf(p, sizeof names[i], "%s%s", is_switch(name) ? "" : "os-", name);
		for (; *p; p++)
			if (*p == '_')
				*p = '-';
		out[n++] = (struct option){ names[i],
			is_switch(name) ? no_argument : required_argument, NULL,
			CLI_OPT_OS + (int)i };
	}
	out[n++] = (struct option){ "debug", no_argument, NULL, CLI_OPT_DEBUG };
	return n;
}

int cli_os_option(const char *cmd, struct cb_os_config *cfg, int opt, const char *arg)
{
	const char *name;

	if (opt == CLI_OPT_DEBUG) {
		cfg->debug = true;
		return 0;
	}
	name = cb_os_config_option((unsigned int)(opt - CLI_OPT_OS), NULL);
	if (cb_os_config_set(cfg, name, is_switch(name) ? "true" : arg) == 0)
		return 0;
	/* The value may be a password: the library's message never has it. */
	cli_usage_error(cmd, "%s", cb_get_error());
	return -1;
}

int cli_getopt_cinder(const char *cmd, int argc, char **argv, const struct option *own,
		      unsigned int with, void (*help)(void),
		      int (*on_opt)(int opt, const char *arg, void *ctx), void *ctx,
		      struct cb_os_config *cfg)
{
	struct option longopts[CLI_LONGOPTS_MAX];
	int opt, r;

	cli_longopts(longopts, own, with | CLI_WITH_OS);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == CLI_OPT_HELP) {
			help();
			exit(EXIT_OK);
		}
		if (opt == '?') {
			cli_bad_option(cmd, argv);
			return -1;
		}
		r = on_opt ? on_opt(opt, optarg, ctx) : 1;
		if (r == 1)
			r = cli_os_option(cmd, cfg, opt, optarg);
		if (r == -1)
			return -1;
	}
	return 0;
}

void cli_os_help(void)
{
	const char *name;
	size_t col = 0;
	bool secret;

	printf("OpenStack options (flags override OS_* variables, which override\n"
	       "clouds.yaml selected by --os-cloud/OS_CLOUD; as in openstackclient):\n");
	for (unsigned int i = 0; (name = cb_os_config_option(i, &secret)); i++) {
		char buf[64];

		if (is_switch(name))
			continue;
		snprintf(buf, sizeof buf, "--os-%s %s", name, secret ? "SECRET" : "VALUE");
		for (char *p = buf; *p; p++)
			if (*p == '_')
				*p = '-';
		/* Two a line: the first padded, the second not. */
		printf(col++ % 2 ? "%s\n" : "  %-40s", buf);
	}
	if (col % 2)
		putchar('\n');
	printf("  %-40s%s\n  %-40s%s\n", "--insecure", "skip TLS certificate checks",
	       "--debug", "log every HTTP exchange (secrets masked)");
	printf("--os-volume-api-version pins the Cinder microversion: 3.44 or later uses the\n"
	       "attachments API, 3.0 the legacy os-reserve/os-attach actions.\n"
	       "A SECRET given on the command line is visible to other users in ps:\n"
	       "prefer OS_PASSWORD or clouds.yaml.\n");
}

int cli_os_resolve(struct cb_os_config *cfg)
{
	extern char **environ;

	if (cb_os_config_resolve(cfg, environ) == 0)
		return 0;
	cli_error("OpenStack settings: %s", cb_get_error());
	return -1;
}
