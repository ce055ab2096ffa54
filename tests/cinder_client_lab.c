/* Drives the Cinder client library (src/cinder) against a real Keystone
 * and Cinder, such as scripts/lab's, with the settings of the environment
 * (OS_*, OS_CLOUD and clouds.yaml).  Run by tests/test-cinder-client.sh,
 * and by tests/test-cinder-tls.sh, which points "auth" in noauth mode at
 * a TLS server.
 *
 *   cinder-client-lab [OPTIONS] auth   authenticate, find Cinder, print
 *                                      the microversion, and make one
 *                                      authenticated call (a 404, not 401)
 *   cinder-client-lab [OPTIONS] flow   a volume through the attachments
 *                                      API and the legacy actions, start
 *                                      to end, then deleted
 *   cinder-client-lab [OPTIONS] volume ID | find NAME | attachments ID |
 *                               attach ID
 *                                      one call (get volume, find volume,
 *                                      list attachments, create an attachment
 *                                      without connector); prints the IDs
 *                                      and status it got
 *   OPTIONS: --debug (log every HTTP exchange), --token-cache DIR
 *
 * Exits 0 on success, 1 with the library's error on stderr.  It prints
 * IDs and states, never a connection_info: that can hold a keyring.
 * Whatever flow created is deleted, also when a step fails.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cinder/cinder.h"
#include "cinder/os_config.h"
#include "backends/connection_info.h"
#include "lib/error.h"
#include "lib/log.h"

extern char **environ;

#define WAIT_MS 60000

static struct cb_cinder *client;
static char *volumes[2];	/* created, to delete at the end */

static void log_to_stderr(enum cb_log_level level, const char *msg, void *opaque)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	fprintf(stderr, "cinder-client-lab: %s: %s\n", names[level], msg);
}

static void cleanup(void)
{
	for (size_t i = 0; client && i < 2; i++) {
		json_t *atts, *att;
		size_t j;

		if (!volumes[i])
			continue;
		atts = cb_cinder_attachment_list(client, volumes[i]);
		json_array_foreach(atts, j, att)
			cb_cinder_attachment_delete(client,
				json_string_value(json_object_get(att, "id")));
		json_decref(atts);
		cb_cinder_volume_wait(client, volumes[i], "available", WAIT_MS);
		cb_cinder_volume_delete(client, volumes[i]);
		free(volumes[i]);
		volumes[i] = NULL;
	}
	cb_cinder_close(client);
	client = NULL;
}

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("cinder-client-lab: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

/* A call the library must get right: its error ends the test. */
static json_t *must(json_t *j, const char *what)
{
	if (!j)
		fail("%s: %s", what, cb_get_error());
	return j;
}

static void must_ok(int ret, const char *what)
{
	if (ret < 0)
		fail("%s: %s", what, cb_get_error());
	printf("ok - %s\n", what);
}

/* A call that must fail with errnum and an error containing each of
 * the given texts (NULL-terminated). */
static void must_fail(int ret, int errnum, const char *what, ...)
{
	const char *text;
	va_list ap;

	if (ret == 0)
		fail("%s: succeeded", what);
	if (cb_get_errno() != errnum)
		fail("%s: errno %d, not %d: %s", what, cb_get_errno(), errnum, cb_get_error());
	va_start(ap, what);
	while ((text = va_arg(ap, const char *)))
		if (!strstr(cb_get_error(), text))
			fail("%s: \"%s\" is not in: %s", what, text, cb_get_error());
	va_end(ap);
	printf("ok - %s (%s)\n", what, cb_get_error());
}

static const char *str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "(none)";
}

static void expect_str(const json_t *j, const char *key, const char *want,
		       const char *what)
{
	if (strcmp(str(j, key), want) != 0)
		fail("%s: %s is \"%s\", not \"%s\"", what, key, str(j, key), want);
	printf("ok - %s: %s %s\n", what, key, want);
}

static void expect_volume_status(const char *id, const char *status)
{
	json_t *v = must(cb_cinder_volume_get(client, id), "get volume");
	char what[64];

	snprintf(what, sizeof what, "volume is %s", status);
	expect_str(v, "status", status, what);
	json_decref(v);
}

static void wait_volume(const char *id, const char *status)
{
	char what[64];

	snprintf(what, sizeof what, "wait for %s", status);
	json_decref(must(cb_cinder_volume_wait(client, id, status, WAIT_MS), what));
	printf("ok - volume %s is %s\n", id, status);
}

static json_t *connector(void)
{
	char host[64] = "cinder-client-lab";

	gethostname(host, sizeof host - 1);
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:b}", "ip", "127.0.0.1",
			 "host", host, "multipath", 0, "platform", "x86_64",
			 "os_type", "linux", "do_local_attach", 0);
}

/* The normalised form the backends take, for this volume. */
static void check_rbd(const json_t *raw, const char *volume_id, const char *what)
{
	json_t *info = must(cb_connection_info_normalize(raw), what);
	json_t *data = json_object_get(info, "data");
	char name[96];

	expect_str(info, "driver_volume_type", "rbd", what);
	snprintf(name, sizeof name, "volumes/volume-%s", volume_id);
	expect_str(data, "name", name, what);
	if (!json_is_array(json_object_get(data, "hosts")))
		fail("%s: data.hosts is not a list", what);
	json_decref(info);
}

static char *create_volume(const char *name, size_t slot)
{
	struct cb_volume_spec spec = { .size_gib = 1, .name = name };
	json_t *v = must(cb_cinder_volume_create(client, &spec), "create volume");

	volumes[slot] = strdup(str(v, "id"));
	printf("ok - created volume %s (%s)\n", volumes[slot], name);
	json_decref(v);
	wait_volume(volumes[slot], "available");
	return volumes[slot];
}

static void find_volume(const char *id, const char *name)
{
	json_t *v;

	v = must(cb_cinder_volume_find(client, name), "find volume by name");
	expect_str(v, "id", id, "find by name");
	json_decref(v);
	v = must(cb_cinder_volume_find(client, id), "find volume by ID");
	expect_str(v, "name", name, "find by ID");
	json_decref(v);
	must_fail(cb_cinder_volume_get(client, "00000000-0000-0000-0000-000000000000") ? 0 : -1,
		  ENOENT, "get a missing volume", "could not be found", "HTTP 404", NULL);
	must_fail(cb_cinder_volume_find(client, "no-such-volume-name") ? 0 : -1, ENOENT,
		  "find a missing volume", "no-such-volume-name", NULL);
}

static void attachment_flow(const char *id, const json_t *conn)
{
	json_t *att, *list;
	char *att_id;

	att = must(cb_cinder_attachment_create(client, id, conn, NULL), "attachment create");
	expect_str(att, "status", "reserved", "attachment create");
	check_rbd(json_object_get(att, "connection_info"), id, "attachment connection_info");
	att_id = strdup(str(att, "id"));
	json_decref(att);
	expect_volume_status(id, "attaching");
	must_ok(cb_cinder_attachment_complete(client, att_id), "attachment complete");
	att = must(cb_cinder_attachment_get(client, att_id), "attachment get");
	expect_str(att, "status", "attached", "attachment get");
	json_decref(att);
	expect_volume_status(id, "in-use");
	list = must(cb_cinder_attachment_list(client, id), "attachment list");
	if (json_array_size(list) != 1 ||
	    strcmp(str(json_array_get(list, 0), "id"), att_id) != 0)
		fail("attachment list: %zu entries, not just %s", json_array_size(list), att_id);
	printf("ok - attachment list has %s only\n", att_id);
	json_decref(list);
	must_ok(cb_cinder_attachment_delete(client, att_id), "attachment delete");
	free(att_id);
	wait_volume(id, "available");
}

/* Reserve first, connector later: the way Nova does it. */
static void reserve_then_connect(const char *id, const json_t *conn)
{
	json_t *att = must(cb_cinder_attachment_create(client, id, NULL, NULL),
			   "attachment create without connector");
	char *att_id = strdup(str(att, "id"));

	must_fail(cb_connection_info_normalize(json_object_get(att, "connection_info")) ? 0 : -1,
		  ENODATA, "no connection_info before a connector", "without a connector",
		  NULL);
	json_decref(att);
	expect_volume_status(id, "reserved");
	att = must(cb_cinder_attachment_update(client, att_id, conn), "attachment update");
	check_rbd(json_object_get(att, "connection_info"), id, "updated connection_info");
	json_decref(att);
	must_ok(cb_cinder_attachment_delete(client, att_id), "attachment delete");
	free(att_id);
	wait_volume(id, "available");
}

static void read_only_attachment(const char *id, const json_t *conn)
{
	struct cb_microversion mv = cb_cinder_microversion(client);
	json_t *att = cb_cinder_attachment_create(client, id, conn, "ro");

	if (cb_microversion_cmp(mv, CB_CINDER_MV_ATTACH_MODE) < 0) {
		must_fail(att ? 0 : -1, ENOTSUP, "read-only attachment below 3.54",
			  "needs Cinder API microversion 3.54", NULL);
		return;
	}
	must(att, "read-only attachment");
	expect_str(att, "attach_mode", "ro", "read-only attachment");
	must_ok(cb_cinder_attachment_delete(client, str(att, "id")),
		"read-only attachment delete");
	json_decref(att);
	wait_volume(id, "available");
}

static char *first_attachment_id(const char *id)
{
	json_t *v = must(cb_cinder_volume_get(client, id), "get volume");
	json_t *att = json_array_get(json_object_get(v, "attachments"), 0);
	char *att_id = strdup(str(att, "attachment_id"));

	json_decref(v);
	return att_id;
}

static void legacy_flow(const char *id, const json_t *conn)
{
	json_t *info;
	char *att_id;

	must_ok(cb_cinder_volume_reserve(client, id), "os-reserve");
	expect_volume_status(id, "attaching");
	must_ok(cb_cinder_volume_unreserve(client, id), "os-unreserve");
	expect_volume_status(id, "available");
	must_ok(cb_cinder_volume_reserve(client, id), "os-reserve");
	info = must(cb_cinder_initialize_connection(client, id, conn),
		    "os-initialize_connection");
	check_rbd(info, id, "os-initialize_connection");
	json_decref(info);
	must_fail(cb_cinder_volume_attach(client, id, "cinder-client-lab", "/dev/cb", "xx"),
		  EINVAL, "os-attach with a bad mode", "badRequest", "HTTP 400", NULL);
	must_ok(cb_cinder_volume_attach(client, id, "cinder-client-lab", "/dev/cb", "rw"),
		"os-attach");
	expect_volume_status(id, "in-use");
	must_ok(cb_cinder_volume_begin_detaching(client, id), "os-begin_detaching");
	expect_volume_status(id, "detaching");
	must_ok(cb_cinder_volume_roll_detaching(client, id), "os-roll_detaching");
	expect_volume_status(id, "in-use");
	must_ok(cb_cinder_volume_begin_detaching(client, id), "os-begin_detaching");
	must_ok(cb_cinder_terminate_connection(client, id, conn), "os-terminate_connection");
	att_id = first_attachment_id(id);
	must_ok(cb_cinder_volume_detach(client, id, att_id), "os-detach");
	free(att_id);
	wait_volume(id, "available");
}

static void ambiguous_name(const char *name)
{
	create_volume(name, 1);
	must_fail(cb_cinder_volume_find(client, name) ? 0 : -1, ENOTUNIQ,
		  "find an ambiguous name", volumes[0], volumes[1], NULL);
	must_ok(cb_cinder_volume_delete(client, volumes[1]), "delete the twin");
	must_ok(cb_cinder_volume_wait_deleted(client, volumes[1], WAIT_MS), "twin deleted");
	free(volumes[1]);
	volumes[1] = NULL;
}

static void flow(void)
{
	json_t *conn = connector();
	char name[64];
	char *id;

	snprintf(name, sizeof name, "cinder-client-lab-%ld", (long)getpid());
	id = create_volume(name, 0);
	find_volume(id, name);
	attachment_flow(id, conn);
	reserve_then_connect(id, conn);
	read_only_attachment(id, conn);
	legacy_flow(id, conn);
	ambiguous_name(name);
	must_ok(cb_cinder_volume_delete(client, id), "delete volume");
	must_ok(cb_cinder_volume_wait_deleted(client, id, WAIT_MS), "volume deleted");
	free(volumes[0]);
	volumes[0] = NULL;
	json_decref(conn);
}

/* One call whose answer is printed: for the tests of odd answers. */
static void one_call(const char *cmd, const char *arg)
{
	json_t *j;
	size_t i;

	if (strcmp(cmd, "volume") == 0 || strcmp(cmd, "find") == 0) {
		j = must(strcmp(cmd, "volume") == 0 ? cb_cinder_volume_get(client, arg) :
			 cb_cinder_volume_find(client, arg), cmd);
		printf("ok - volume %s is %s\n", str(j, "id"), str(j, "status"));
	} else if (strcmp(cmd, "attachments") == 0) {
		j = must(cb_cinder_attachment_list(client, arg), cmd);
		for (i = 0; i < json_array_size(j); i++)
			printf("ok - attachment %s\n", str(json_array_get(j, i), "id"));
	} else {
		j = must(cb_cinder_attachment_create(client, arg, NULL, NULL), cmd);
		printf("ok - attachment %s\n", str(j, "id"));
	}
	json_decref(j);
}

static int usage(void)
{
	fprintf(stderr, "usage: cinder-client-lab [--debug] [--token-cache DIR] "
		"auth|flow|volume ID|find NAME|attachments ID|attach ID\n");
	return 2;
}

static bool takes_arg(const char *cmd)
{
	return !strcmp(cmd, "volume") || !strcmp(cmd, "find") ||
	       !strcmp(cmd, "attachments") || !strcmp(cmd, "attach");
}

int main(int argc, char **argv)
{
	struct cb_os_config cfg;
	struct cb_microversion mv, max;
	const char *cmd;
	int arg = 1;

	cb_set_log_fn(log_to_stderr, NULL);
	cb_os_config_init(&cfg);
	for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg++) {
		if (strcmp(argv[arg], "--debug") == 0)
			cfg.debug = true;
		else if (strcmp(argv[arg], "--token-cache") == 0 && arg + 1 < argc)
			cfg.token_cache_dir = strdup(argv[++arg]);
		else
			return usage();
	}
	cmd = arg < argc ? argv[arg] : "";
	if (strcmp(cmd, "auth") && strcmp(cmd, "flow") && !takes_arg(cmd))
		return usage();
	if (argc != arg + 1 + takes_arg(cmd))
		return usage();
	if (cb_os_config_resolve(&cfg, environ) < 0)
		fail("config: %s", cb_get_error());
	client = cb_cinder_open(&cfg);
	cb_os_config_free(&cfg);
	if (!client)
		fail("%s", cb_get_error());
	mv = cb_cinder_microversion(client);
	max = cb_cinder_max_microversion(client);
	printf("ok - %s, microversion %d.%d (server maximum %d.%d)\n",
	       cb_cinder_endpoint(client), mv.major, mv.minor, max.major, max.minor);
	if (takes_arg(cmd))
		one_call(cmd, argv[arg + 1]);
	else if (strcmp(cmd, "flow") == 0)
		flow();
	else
		must_fail(cb_cinder_volume_get(client, "00000000-0000-0000-0000-000000000000") ?
			  0 : -1, ENOENT, "the token works with Cinder", "HTTP 404", NULL);
	cleanup();
	return 0;
}
