/* cinder-brick local-attach: attach a Cinder volume to this host.
 *
 * Microversion 3.44 and later: an attachment created with our connector
 * (and no instance: see cinder.h), then os-complete.  Older: os-reserve,
 * os-initialize_connection, then os-attach with our host name.  Between
 * the two Cinder halves the volume is opened and served, so Cinder only
 * hears "attached" once the device exists.  Any failure undoes what was
 * done, in reverse, so the volume ends available and nothing is left
 * here.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/connection_info.h"
#include "cli.h"
#include "host/connector.h"
#include "lib/error.h"
#include "serve.h"
#include "state.h"

#define CMD "local-attach"
#define NBD_MODULE "/sys/module/nbd"

struct attach_opts {
	const char *volume;
	const char *mountpoint;
	const char *mode;
	const char *export_kind;
	const char *rbd_keyring;
	bool json;
	struct cb_connector_opts conn;
	struct cb_os_config cfg;
};

/* What has been done so far: a failure undoes exactly that. */
struct attach {
	const struct attach_opts *o;
	struct cb_cinder *c;
	char volume_id[64];
	bool legacy;
	json_t *connector;
	json_t *ci;
	char *attachment_id;
	bool reserved;		/* legacy: os-reserve done */
	bool connected;		/* legacy: os-initialize_connection done */
	bool have_dir;
	char dir[PATH_MAX];
	struct served srv;
	bool serving;
};

static void help(void)
{
	printf("Usage: %s local-attach [OPTIONS] VOLUME\n"
	       "\n"
	       "Attach the Cinder volume VOLUME (an ID or a unique name) to this host as a\n"
	       "block device, with no Nova: ask Cinder for the connection, open the volume in\n"
	       "userspace (rbd, local), serve it as a FUSE file with a loop device over it, then\n"
	       "tell Cinder it is attached.  Prints the device (e.g. /dev/loop3).  The serving\n"
	       "process runs detached, one per attachment, until local-detach.\n"
	       "\n"
	       "  --mode rw|ro           read-write (default) or read-only: Cinder records the\n"
	       "                         mode (microversion 3.54+ or legacy), the device refuses\n"
	       "                         writes\n"
	       "  --export auto|nbd|fuse how to make the block device: fuse = FUSE file + loop\n"
	       "                         device; nbd = kernel NBD (not implemented yet); auto\n"
	       "                         (default) = fuse\n"
	       "  --mountpoint PATH      the mountpoint recorded by Cinder's legacy os-attach\n"
	       "                         (default: the device)\n"
	       "  --multipath, --enforce-multipath, --nic IF\n"
	       "                         connector fields, as for get-connector\n"
	       "  --rbd-keyring FILE     Ceph keyring for rbd volumes, instead of the one Cinder\n"
	       "                         sends or /etc/ceph/<cluster>.client.<user>.keyring\n"
	       "  --json                 print volume_id, attachment_id, device, fuse_file, pid,\n"
	       "                         backend, export, flow and microversion as JSON\n"
	       "\n", program_name);
	cli_os_help();
	printf("\nThe volume must be available (or in-use and multiattach) and not attached\n"
	       "here already.  State is kept in " STATE_DIR "/VOLUME_ID.json.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static int parse_args(int argc, char **argv, struct attach_opts *o)
{
	enum { OPT_MP = 256, OPT_EMP, OPT_NIC, OPT_MOUNT, OPT_MODE, OPT_EXPORT, OPT_KEYRING,
	       OPT_JSON, OPT_HELP };
	struct option longopts[CLI_MAX_OS_LONGOPTS + 16] = {
		{ "multipath", no_argument, NULL, OPT_MP },
		{ "enforce-multipath", no_argument, NULL, OPT_EMP },
		{ "nic", required_argument, NULL, OPT_NIC },
		{ "mountpoint", required_argument, NULL, OPT_MOUNT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "rbd-keyring", required_argument, NULL, OPT_KEYRING },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	int opt;

	cli_os_longopts(longopts + 9);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_MP: o->conn.multipath = true; break;
		case OPT_EMP: o->conn.enforce_multipath = true; break;
		case OPT_NIC: o->conn.nic = optarg; break;
		case OPT_MOUNT: o->mountpoint = optarg; break;
		case OPT_MODE: o->mode = optarg; break;
		case OPT_EXPORT: o->export_kind = optarg; break;
		case OPT_KEYRING: o->rbd_keyring = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_HELP: help(); exit(EXIT_OK);
		case '?':
			cli_bad_option(CMD, argv);
			return -1;
		default:
			if (cli_os_option(CMD, &o->cfg, opt, optarg) == -1)
				return -1;
		}
	}
	if (cli_take_volume(CMD, argc, argv, &o->volume) == -1)
		return -1;
	if (strcmp(o->mode, "rw") != 0 && strcmp(o->mode, "ro") != 0) {
		cli_usage_error(CMD, "--mode is rw or ro, not '%s'", o->mode);
		return -1;
	}
	if (strcmp(o->export_kind, "auto") && strcmp(o->export_kind, "nbd") &&
	    strcmp(o->export_kind, "fuse")) {
		cli_usage_error(CMD, "--export is auto, nbd or fuse, not '%s'", o->export_kind);
		return -1;
	}
	return 0;
}

/* Kernel NBD would skip the FUSE and loop hops, but is not written yet:
 * "auto" means FUSE on every kernel for now. */
static int check_export_kind(const struct attach_opts *o)
{
	if (strcmp(o->export_kind, "nbd") != 0)
		return 0;
	if (access(NBD_MODULE, F_OK) == 0)
		cli_error("--export nbd: kernel NBD export is not implemented yet; "
			  "use --export fuse (or auto)");
	else
		cli_error("--export nbd: this kernel has no nbd module (" NBD_MODULE
			  "), and kernel NBD export is not implemented yet anyway; "
			  "use --export fuse (or auto)");
	return -1;
}

static int check_volume(struct attach *a, const json_t *vol)
{
	const char *status = cli_str(vol, "status", NULL);
	json_t *st;

	snprintf(a->volume_id, sizeof a->volume_id, "%s", cli_str(vol, "id", ""));
	st = state_load(a->volume_id);
	if (st) {
		cli_error("volume %s is already attached here as %s: "
			  "'%s local-detach %s' first", a->volume_id,
			  cli_str(st, "device", "?"), program_name,
			  a->volume_id);
		json_decref(st);
		return -1;
	}
	if (status && (strcmp(status, "available") == 0 ||
		       (strcmp(status, "in-use") == 0 &&
			json_is_true(json_object_get(vol, "multiattach")))))
		return 0;
	cli_error("volume %s is %s, not available%s", a->volume_id, status ? status : "?",
		  status && strcmp(status, "in-use") == 0 ?
		  ": it is attached elsewhere and is not multiattach" : "");
	return -1;
}

static int find_volume(struct attach *a)
{
	json_t *vol = cb_cinder_volume_find(a->c, a->o->volume);
	int ret;

	if (!vol) {
		cli_error("volume %s: %s", a->o->volume, cb_get_error());
		return -1;
	}
	ret = check_volume(a, vol);
	json_decref(vol);
	return ret;
}

/*
 * Two calls, as Nova makes them: creating the attachment without a connector
 * only reserves the volume and cannot fail half-way, so the attachment id is
 * known before cinder-volume is asked for the connection.  A single create
 * with the connector leaves a reserved attachment behind whose id the caller
 * never learns when that request fails (cinder-volume down, say).
 */
static int connect_v3(struct attach *a)
{
	bool mode_ok = cb_microversion_cmp(cb_cinder_microversion(a->c),
					   CB_CINDER_MV_ATTACH_MODE) >= 0;
	json_t *att = cb_cinder_attachment_create(a->c, a->volume_id, NULL,
						  mode_ok ? a->o->mode : NULL);

	if (!att)
		return -1;
	if (*cli_str(att, "id", "") == '\0') {
		cb_set_error(EPROTO, "Cinder created an attachment without an id");
		json_decref(att);
		return -1;
	}
	a->attachment_id = strdup(cli_str(att, "id", ""));
	json_decref(att);
	if (!a->attachment_id) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	att = cb_cinder_attachment_update(a->c, a->attachment_id, a->connector);
	if (!att)
		return -1;
	a->ci = cb_connection_info_normalize(json_object_get(att, "connection_info"));
	json_decref(att);
	return a->ci ? 0 : -1;
}

static int connect_legacy(struct attach *a)
{
	json_t *raw;

	if (cb_cinder_volume_reserve(a->c, a->volume_id) == -1)
		return -1;
	a->reserved = true;
	a->ci = cb_cinder_initialize_connection(a->c, a->volume_id, a->connector);
	a->connected = a->ci != NULL;
	if (!a->ci)
		return -1;
	raw = a->ci;
	a->ci = cb_connection_info_normalize(raw);
	json_decref(raw);
	return a->ci ? 0 : -1;
}

static const char *driver_type(const struct attach *a)
{
	return cli_str(a->ci, "driver_volume_type", NULL);
}

/* Before anything is served: Cinder's answer must be one we can open. */
static int check_driver(const struct attach *a)
{
	return cb_connection_info_backend(a->ci) ? 0 : -1;
}

static bool read_only(const struct attach *a)
{
	const char *access = cli_str(json_object_get(a->ci, "data"), "access_mode", NULL);

	return strcmp(a->o->mode, "ro") == 0 || (access && strcmp(access, "ro") == 0);
}

static int serve(struct attach *a)
{
	struct serve_opts so = { .dir = a->dir, .read_only = read_only(a),
				 .rbd_keyring = a->o->rbd_keyring };

	if (state_volume_dir(a->volume_id, a->dir, sizeof a->dir) == -1)
		return -1;
	a->have_dir = true;
	if (serve_start(a->ci, &so, &a->srv) == -1)
		return -1;
	a->serving = true;
	return 0;
}

static json_t *state_of(const struct attach *a)
{
	struct cb_microversion mv = cb_cinder_microversion(a->c);
	char mvs[16];

	snprintf(mvs, sizeof mvs, "%d.%d", mv.major, mv.minor);
	return json_pack("{s:s, s:s?, s:s, s:s, s:O, s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
			 "volume_id", a->volume_id, "attachment_id", a->attachment_id,
			 "flow", a->legacy ? "legacy" : "v3", "microversion", mvs,
			 "connector", a->connector, "device", a->srv.device,
			 "fuse_file", a->srv.fuse_file, "pid", (json_int_t)a->srv.pid,
			 "backend", driver_type(a), "export", "fuse",
			 "mountpoint", a->o->mountpoint ? a->o->mountpoint : a->srv.device,
			 "mode", read_only(a) ? "ro" : "rw");
}

static int save_state(const struct attach *a, json_t **out)
{
	json_t *st = state_of(a);

	if (!st || state_save(st) == -1) {
		if (!st)
			cb_set_error(ENOMEM, "out of memory");
		json_decref(st);
		return -1;
	}
	*out = st;
	return 0;
}

/* The legacy os-attach makes the attachment: find its ID, by our
 * mountpoint when the volume has several (multiattach). */
static void learn_legacy_attachment(struct attach *a, const char *mountpoint)
{
	json_t *vol = cb_cinder_volume_get(a->c, a->volume_id);
	json_t *atts = json_object_get(vol, "attachments"), *att;
	size_t i;

	json_array_foreach(atts, i, att) {
		const char *dev = cli_str(att, "device", NULL);

		if (json_array_size(atts) == 1 || (dev && strcmp(dev, mountpoint) == 0)) {
			a->attachment_id = strdup(cli_str(att, "attachment_id", ""));
			break;
		}
	}
	json_decref(vol);
}

static int complete(struct attach *a, json_t *st)
{
	const char *mountpoint = cli_str(st, "mountpoint", NULL);
	char host[256] = "";

	if (!a->legacy)
		return cb_cinder_attachment_complete(a->c, a->attachment_id);
	gethostname(host, sizeof host - 1);
	if (cb_cinder_volume_attach(a->c, a->volume_id, host, mountpoint,
				    cli_str(st, "mode", NULL)) == -1)
		return -1;
	learn_legacy_attachment(a, mountpoint);
	if (a->attachment_id)
		json_object_set_new(st, "attachment_id", json_string(a->attachment_id));
	if (state_save(st) == -1)
		cli_error("warning: %s; local-detach will ask Cinder", cb_get_error());
	return 0;
}

static void rollback_step(int ret, const char *what)
{
	if (ret == -1)
		cli_error("rollback: %s failed: %s", what, cb_get_error());
}

/* Undoes, in reverse, what a did; says what it could not undo. */
static void rollback(struct attach *a)
{
	if (a->serving && serve_stop(a->srv.pid, a->srv.fuse_file, a->srv.device) == -1) {
		rollback_step(-1, "stopping the serving process");
		kill(a->srv.pid, SIGKILL);
		serve_cleanup(a->srv.fuse_file, a->srv.device);
	}
	if (a->have_dir)
		state_remove(a->volume_id);
	if (a->attachment_id && !a->legacy)
		rollback_step(cb_cinder_attachment_delete(a->c, a->attachment_id),
			      "deleting the attachment");
	else if (a->connected)	/* Cinder unreserves too */
		rollback_step(cb_cinder_terminate_connection(a->c, a->volume_id, a->connector),
			      "os-terminate_connection");
	else if (a->reserved)
		rollback_step(cb_cinder_volume_unreserve(a->c, a->volume_id), "os-unreserve");
}

static void print_result(const struct attach *a, json_t *st)
{
	if (!a->o->json) {
		printf("%s\n", a->srv.device);
		return;
	}
	json_object_del(st, "connector");
	json_dumpf(st, stdout, JSON_INDENT(2));
	putchar('\n');
}

static int attach(struct attach *a)
{
	json_t *st = NULL;
	char err[1024];

	a->connector = cb_connector_get(&a->o->conn);
	if (!a->connector) {
		cli_error("%s", cb_get_error());
		return -1;
	}
	a->legacy = cb_microversion_cmp(cb_cinder_microversion(a->c),
					CB_CINDER_MV_COMPLETE) < 0;
	if ((a->legacy ? connect_legacy(a) : connect_v3(a)) == -1 || check_driver(a) == -1 ||
	    serve(a) == -1 || save_state(a, &st) == -1 || complete(a, st) == -1) {
		/* Rolling back makes calls that overwrite the error. */
		snprintf(err, sizeof err, "%s", cb_get_error());
		cli_error("cannot attach volume %s: %s", a->volume_id, err);
		rollback(a);
		json_decref(st);
		return -1;
	}
	print_result(a, st);
	json_decref(st);
	return 0;
}

int cmd_local_attach(int argc, char **argv)
{
	struct attach_opts o = { .mode = "rw", .export_kind = "auto" };
	struct attach a = { .o = &o };
	int ret = EXIT_FAILURE_RUNTIME;

	cb_os_config_init(&o.cfg);
	if (parse_args(argc, argv, &o) == -1) {
		cb_os_config_free(&o.cfg);
		return EXIT_USAGE;
	}
	cli_log_init(o.cfg.debug);
	if (check_export_kind(&o) == -1)
		goto out;
	a.c = cli_cinder_open(&o.cfg);
	if (a.c && find_volume(&a) == 0 && attach(&a) == 0)
		ret = EXIT_OK;
out:
	cb_cinder_close(a.c);
	json_decref(a.connector);
	json_decref(a.ci);
	free(a.attachment_id);
	cb_os_config_free(&o.cfg);
	return ret;
}
