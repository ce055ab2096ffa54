/* cinder-brick-serve: the serving process of one attachment, started by
 * the engine (engine/serving.c has the protocol), never by hand.
 *
 *   cinder-brick-serve FUSE_FILE|NBD_IDENTIFIER  < request  > answer
 *
 * Reads the request (connection_info and options, JSON) from stdin until
 * EOF, daemonises, starts serving the volume as FUSE_FILE with a loop
 * device over it or as /dev/nbdN, then writes one JSON line, the device or
 * the error, and
 * leaves stdin/stdout: the engine reads until EOF.  It then serves until
 * SIGTERM, releasing the device, unmounting and flushing before it exits,
 * within the request's stop_grace when the storage does not answer.
 */
#include <config.h>

#include <limits.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/export.h"
#include "lib/error.h"
#include "lib/log.h"

#define REQUEST_MAX (1u << 20)

const char *program_name = "cinder-brick-serve";

/* What argv[1] must be: the FUSE file, or the nbd device's identifier. */
static const char *request_tag(const json_t *req)
{
	const json_t *nbd = json_object_get(req, "nbd");

	if (nbd)
		return json_string_value(json_object_get(nbd, "identifier"));
	return json_string_value(json_object_get(req, "fuse"));
}

static json_t *read_request(void)
{
	json_error_t jerr;
	json_t *req = json_loadf(stdin, 0, &jerr);

	if (!req)
		cb_set_error(EINVAL, "bad request from the engine: %s", jerr.text);
	else if (!json_is_object(json_object_get(req, "connection_info")) ||
		 !request_tag(req)) {
		cb_set_error(EINVAL, "bad request from the engine: no connection_info, or "
			     "neither fuse nor nbd");
		json_decref(req);
		req = NULL;
	}
	return req;
}

static void answer(const json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
}

static void answer_error(void)
{
	json_t *j = json_pack("{s:s, s:i}", "error", cb_get_error(), "errno", cb_get_errno());

	if (j)
		answer(j);
	json_decref(j);
}

static void nbd_options(const json_t *nbd, struct cb_kernel_nbd_opts *ko)
{
	ko->identifier = json_string_value(json_object_get(nbd, "identifier"));
	ko->index = (int)json_integer_value(json_object_get(nbd, "index"));
	ko->reattach = json_is_true(json_object_get(nbd, "reattach"));
	ko->connections = (int)json_integer_value(json_object_get(nbd, "connections"));
	ko->io_timeout = (unsigned)json_integer_value(json_object_get(nbd, "io_timeout"));
	ko->dead_conn_timeout =
		(unsigned)json_integer_value(json_object_get(nbd, "dead_conn_timeout"));
}

static struct cb_export *start(const json_t *req)
{
	const json_t *nbd = json_object_get(req, "nbd");
	struct cb_kernel_nbd_opts ko = { 0 };
	struct cb_export_opts xo = {
		.connection_info = json_object_get(req, "connection_info"),
		.backend_options = json_object_get(req, "backend_options"),
		.read_only = json_is_true(json_object_get(req, "read_only")),
		.multipath = json_is_true(json_object_get(req, "multipath")),
		.enforce_multipath = json_is_true(json_object_get(req, "enforce_multipath")),
	};
	struct cb_export *x;

	if (nbd) {
		nbd_options(nbd, &ko);
		xo.kernel_nbd = &ko;
	} else {
		xo.fuse = json_string_value(json_object_get(req, "fuse"));
		xo.loop = true;
	}
	x = cb_export_start(&xo);
	json_t *ok;

	if (!x)
		return NULL;
	ok = json_pack("{s:I, s:s}", "pid", (json_int_t)getpid(), "device",
		       cb_export_device(x));
	if (ok)
		answer(ok);
	json_decref(ok);
	return x;
}

int main(int argc, char **argv)
{
	struct cli_serve_opts so = { 0 };
	struct cb_export *x;
	sigset_t sigs;
	const char *paths_file;
	char paths[PATH_MAX];
	json_t *req;

	if (argc != 2) {
		fprintf(stderr, "%s: started by cinder-brick local-attach, not by hand\n",
			program_name);
		return EXIT_USAGE;
	}
	cli_log_init(false);
	req = read_request();
	if (!req) {
		answer_error();
		return EXIT_FAILURE_RUNTIME;
	}
	if (strcmp(request_tag(req), argv[1]) != 0) {
		cb_set_error(EINVAL, "bad request from the engine: its FUSE file or nbd "
			     "identifier differs from argv");
		answer_error();
		json_decref(req);
		return EXIT_FAILURE_RUNTIME;
	}
	cli_daemon_fork();
	cli_block_stop_signals(&sigs);
	cli_tune_malloc();
	x = start(req);
	paths_file = json_string_value(json_object_get(req, "paths_file"));
	snprintf(paths, sizeof paths, "%s", paths_file ? paths_file : "");
	so.paths_file = paths[0] ? paths : NULL;
	so.stop_grace = (unsigned)json_integer_value(json_object_get(req, "stop_grace"));
	json_decref(req);
	if (!x) {
		cb_log_flush();
		answer_error();
		cli_daemon_failed(EXIT_FAILURE_RUNTIME);
		return EXIT_FAILURE_RUNTIME;
	}
	cli_daemon_ready();
	return cli_serve_until_stopped(x, &sigs, &so);
}
