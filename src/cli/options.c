/* Options shared by several commands: the connector's and the backends',
 * one definition each.  cli_longopts() joins tables, so no command counts
 * entries to splice them in. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli.h"
#include "engine/export.h"
#include "lib/error.h"

enum { OPT_MP = CLI_OPT_CONNECTOR, OPT_EMP, OPT_NIC };
enum { OPT_CONNS = CLI_OPT_KERNEL_NBD, OPT_IO_TIMEOUT, OPT_DEAD_TIMEOUT };

static const struct option connector_opts[] = {
	{ "multipath", no_argument, NULL, OPT_MP },
	{ "enforce-multipath", no_argument, NULL, OPT_EMP },
	{ "nic", required_argument, NULL, OPT_NIC },
	{ NULL, 0, NULL, 0 },
};

static const struct option kernel_nbd_opts[] = {
	{ "connections", required_argument, NULL, OPT_CONNS },
	{ "io-timeout", required_argument, NULL, OPT_IO_TIMEOUT },
	{ "dead-conn-timeout", required_argument, NULL, OPT_DEAD_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static const struct option local_path_opts[] = {
	{ "allow-local-path", required_argument, NULL, CLI_OPT_LOCAL_PATH },
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
	if (with & CLI_WITH_KERNEL_NBD)
		n = append(out, n, kernel_nbd_opts);
	if (with & CLI_WITH_LOCAL_PATHS)
		n = append(out, n, local_path_opts);
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

bool cli_local_path_option(const char *cmd, int opt, const char *arg,
			   struct cli_local_paths *l, int *r)
{
	if (opt != CLI_OPT_LOCAL_PATH)
		return false;
	*r = 0;
	if (l->n == CLI_MAX_LOCAL_PATHS) {
		cli_usage_error(cmd, "--allow-local-path given more than %d times",
				CLI_MAX_LOCAL_PATHS);
		*r = -1;
	} else {
		l->paths[l->n++] = arg;
	}
	return true;
}

/* A whole number from min to max, or -1 after a usage error. */
static long parse_number(const char *cmd, const char *opt, const char *arg, long min,
			 long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		cli_usage_error(cmd, "--%s takes a whole number from %ld to %ld, not '%s'",
				opt, min, max, arg);
		return -1;
	}
	return v;
}

bool cli_kernel_nbd_option(const char *cmd, int opt, const char *arg,
			   struct cb_kernel_nbd_opts *o, int *r)
{
	long v;

	switch (opt) {
	case OPT_CONNS:
		v = parse_number(cmd, "connections", arg, 1, KERNEL_NBD_MAX_CONNECTIONS);
		o->connections = (int)v;
		break;
	case OPT_IO_TIMEOUT:
		v = parse_number(cmd, "io-timeout", arg, 1, 86400);
		o->io_timeout = (unsigned)v;
		break;
	case OPT_DEAD_TIMEOUT:
		v = parse_number(cmd, "dead-conn-timeout", arg, 1, 86400);
		o->dead_conn_timeout = (unsigned)v;
		break;
	default:
		return false;
	}
	*r = v == -1 ? -1 : 0;
	return true;
}

int cli_stop_grace_option(const char *cmd, const char *arg, unsigned *grace)
{
	long v = parse_number(cmd, "stop-grace", arg, 1, 86400);

	*grace = v == -1 ? 0 : (unsigned)v;
	return v == -1 ? -1 : 0;
}

void cli_kernel_nbd_help(void)
{
	printf("  --connections N         sockets between the kernel and the server (default:\n"
	       "                          one per CPU up to 4 when the backend is coherent,\n"
	       "                          else 1)\n"
	       "  --io-timeout S          seconds a request may take before the kernel gives\n"
	       "                          up on its connection (default %d)\n"
	       "  --dead-conn-timeout S   seconds the device waits, requests held, for a\n"
	       "                          reattach once its server is gone (default %d)\n",
	       CB_NBD_DEFAULT_IO_TIMEOUT, CB_NBD_DEFAULT_DEAD_CONN_TIMEOUT);
}

int cli_backend_option_set(const char *cmd, json_t **opts, const char *key, const char *value)
{
	json_t *v = json_string(value);

	if (!v) {
		cli_usage_error(cmd, "the value of backend option '%s' is not UTF-8 text", key);
		return -1;
	}
	if (!*opts)
		*opts = json_object();
	if (!*opts || json_object_set_new(*opts, key, v) == -1) {
		cli_usage_error(cmd, "out of memory");
		return -1;
	}
	return 0;
}

/* A secret would stay readable in argv (ps, /proc/PID/cmdline) for as
 * long as the command runs: none is taken here. */
int cli_backend_option(const char *cmd, json_t **opts, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const struct cb_backend_option *opt;
	char *key;
	int r = -1;

	if (!eq) {
		cli_usage_error(cmd, "--backend-option takes NAME=VALUE, not '%s'", arg);
		return -1;
	}
	key = strndup(arg, (size_t)(eq - arg));
	if (!key) {
		cli_usage_error(cmd, "out of memory");
		return -1;
	}
	opt = cb_backend_option_find(key, NULL);
	if (!opt)
		cli_usage_error(cmd, "%s", cb_get_error());
	else if (opt->secret)
		cli_usage_error(cmd, "backend option '%s' is a secret, which any user could "
				"read on a command line: it is not taken here", key);
	else
		r = cli_backend_option_set(cmd, opts, key, eq + 1);
	free(key);
	return r;
}

void cli_backend_options_help(void)
{
	for (size_t i = 0; cb_backends[i]; i++) {
		const struct cb_backend_ops *ops = cb_backends[i];

		for (const struct cb_backend_option *o = ops->options; o && o->name; o++) {
			int n = printf("    %s.%s", ops->name, o->name);

			printf("%*s%s\n", n < 26 ? 26 - n : 1, "", o->help);
		}
	}
}
