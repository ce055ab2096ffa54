/* Option tables shared by several commands: one definition each, joined
 * to a command's own table by cli_longopts(), so no command counts entries
 * to splice them in. */
#include <config.h>

#include <string.h>

#include "cli.h"

enum { OPT_MP = CLI_OPT_CONNECTOR, OPT_EMP, OPT_NIC };

static const struct option connector_opts[] = {
	{ "multipath", no_argument, NULL, OPT_MP },
	{ "enforce-multipath", no_argument, NULL, OPT_EMP },
	{ "nic", required_argument, NULL, OPT_NIC },
	{ NULL, 0, NULL, 0 },
};

static size_t append(struct option *out, size_t n, const struct option *in)
{
	for (; in->name && n < CLI_LONGOPTS_MAX - 1; in++)
		out[n++] = *in;
	return n;
}

void cli_longopts(struct option *out, const struct option *own, unsigned int with)
{
	size_t n = append(out, 0, own);

	if (with & CLI_WITH_CONNECTOR)
		n = append(out, n, connector_opts);
	if (with & CLI_WITH_OS) {
		struct option os[CLI_LONGOPTS_MAX];

		os[cli_os_longopts(os)] = (struct option){ 0 };
		n = append(out, n, os);
	}
	out[n] = (struct option){ 0 };
}

bool cli_connector_option(int opt, const char *arg, struct cb_connector_opts *o)
{
	switch (opt) {
	case OPT_MP: o->multipath = true; return true;
	case OPT_EMP: o->enforce_multipath = true; return true;
	case OPT_NIC: o->nic = arg; return true;
	default: return false;
	}
}
