/* cinder-brick local-detach: undo local-attach.
 *
 * The local side goes first: only once the serving process has flushed
 * and let go of the device does Cinder hear that the volume is free.
 * A refusal there (the device is mounted) changes nothing in Cinder.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/connector.h"
#include "lib/error.h"
#include "serve.h"
#include "state.h"

#define CMD "local-detach"

struct detach_opts {
	const char *volume;
	const char *attachment_id;
	bool force;
	struct cb_os_config cfg;
};

static void help(void)
{
	printf("Usage: %s local-detach [--attachment-id ID] [--force] [OPTIONS] VOLUME\n"
	       "\n"
	       "Detach the volume VOLUME (an ID or a unique name) that local-attach attached:\n"
	       "stop its serving process (which flushes, then detaches the loop device and\n"
	       "the FUSE file), then end the attachment in Cinder: delete it (microversion\n"
	       "3.44+), or os-begin_detaching, os-terminate_connection and os-detach (legacy,\n"
	       "rolled back with os-roll_detaching on failure).  The volume becomes available.\n"
	       "\n"
	       "  --attachment-id ID  the Cinder attachment to end, when there is no local\n"
	       "                      state and the volume has several attachments\n"
	       "  --force             clean up after a serving process that died: stale state,\n"
	       "                      leftover loop device and FUSE mount; kill one that does\n"
	       "                      not exit.  Never forces a mounted device.\n"
	       "\n", program_name);
	cli_os_help();
	printf("\nRefuses, changing nothing, while the device is mounted: unmount it first.\n"
	       "Without local state (" STATE_DIR "/VOLUME_ID.json) it works from Cinder's\n"
	       "attachment list.\n"
	       "Exit status: 0 success, 1 failure, 2 bad usage.\n");
}

static int parse_args(int argc, char **argv, struct detach_opts *o)
{
	enum { OPT_ATT = 256, OPT_FORCE, OPT_HELP };
	struct option longopts[CLI_MAX_OS_LONGOPTS + 4] = {
		{ "attachment-id", required_argument, NULL, OPT_ATT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	int opt;

	cli_os_longopts(longopts + 3);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ATT: o->attachment_id = optarg; break;
		case OPT_FORCE: o->force = true; break;
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
	return 0;
}

static void kill_and_clean(pid_t pid, const char *fuse, const char *device)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };

	kill(pid, SIGKILL);
	for (int i = 0; i < 50 && serve_alive(pid, fuse); i++)
		nanosleep(&tick, NULL);
	serve_cleanup(fuse, device);
}

/* Stops the serving process of state st.  -1 after printing why. */
static int stop_local(const json_t *st, const struct detach_opts *o)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	const char *fuse = cli_str(st, "fuse_file", ""), *device = cli_str(st, "device", "");

	if (!serve_alive(pid, fuse)) {
		if (!o->force) {
			cli_error("the serving process %ld of volume %s is gone (killed or "
				  "crashed), so %s is stale: run '%s local-detach --force %s' "
				  "to clean up and detach", (long)pid, cli_str(st, "volume_id", ""),
				  device, program_name, o->volume);
			return -1;
		}
		serve_cleanup(fuse, device);
		return 0;
	}
	if (serve_stop(pid, fuse, device) == 0)
		return 0;
	if (cb_get_errno() == ETIMEDOUT && o->force) {
		kill_and_clean(pid, fuse, device);
		return 0;
	}
	cli_error("cannot detach volume %s: %s", cli_str(st, "volume_id", ""), cb_get_error());
	return -1;
}

/* Without local state: the only attachment, or the one asked for. */
static const char *pick_attachment(const json_t *vol, const struct detach_opts *o)
{
	json_t *atts = json_object_get(vol, "attachments");

	if (o->attachment_id)
		return o->attachment_id;
	if (json_array_size(atts) == 1)
		return cli_str(json_array_get(atts, 0), "attachment_id", "");
	if (json_array_size(atts) == 0)
		cli_error("volume %s has no attachment in Cinder and none here: "
			  "nothing to detach", cli_str(vol, "id", ""));
	else
		cli_error("volume %s has %zu attachments and no local state says which is "
			  "ours: give --attachment-id (see 'openstack volume attachment list')",
			  cli_str(vol, "id", ""), json_array_size(atts));
	return NULL;
}

static int detach_legacy(struct cb_cinder *c, const char *id, const char *att_id,
			 const json_t *connector)
{
	char err[1024];

	if (cb_cinder_volume_begin_detaching(c, id) == -1)
		return -1;
	if (cb_cinder_terminate_connection(c, id, connector) == 0 &&
	    cb_cinder_volume_detach(c, id, att_id[0] ? att_id : NULL) == 0)
		return 0;
	snprintf(err, sizeof err, "%s", cb_get_error());
	if (cb_cinder_volume_roll_detaching(c, id) == -1)
		cli_error("rollback: os-roll_detaching failed: %s", cb_get_error());
	cb_set_error(EIO, "%s", err);
	return -1;
}

static int detach_cinder(struct cb_cinder *c, const json_t *vol, const json_t *st,
			 const char *att_id)
{
	struct cb_connector_opts co = { 0 };
	json_t *connector;
	/* The way it was attached, unless the microversion asked for now
	 * predates the attachments API: the legacy actions end any attachment. */
	bool legacy = strcmp(cli_str(st, "flow", ""), "legacy") == 0 ||
		cb_microversion_cmp(cb_cinder_microversion(c), CB_CINDER_MV_ATTACHMENTS) < 0;
	int ret;

	if (!legacy)
		return cb_cinder_attachment_delete(c, att_id);
	connector = json_incref(json_object_get(st, "connector"));
	if (!connector && !(connector = cb_connector_get(&co)))
		return -1;
	ret = detach_legacy(c, cli_str(vol, "id", ""), att_id, connector);
	json_decref(connector);
	return ret;
}

static int detach(struct cb_cinder *c, const json_t *vol, const struct detach_opts *o)
{
	const char *id = cli_str(vol, "id", ""), *att_id;
	json_t *st = state_load(id);
	char fuse[PATH_MAX];
	int ret = -1;

	if (st && stop_local(st, o) == -1)
		goto out;
	if (!st && state_volume_dir(id, fuse, sizeof fuse - 8) == 0) {
		/* State lost: a FUSE file may still be mounted there. */
		strcat(fuse, "/disk");
		serve_cleanup(fuse, "");
	}
	att_id = o->attachment_id ? o->attachment_id : cli_str(st, "attachment_id", "");
	if (!att_id[0] && !(att_id = pick_attachment(vol, o)))
		goto out_local_gone;
	if (detach_cinder(c, vol, st, att_id) == -1) {
		cli_error("volume %s: the local device is gone, but Cinder did not end "
			  "attachment %s: %s; run local-detach again once Cinder can",
			  id, att_id, cb_get_error());
		goto out_local_gone;
	}
	ret = 0;
out_local_gone:
	state_remove(id);
out:
	json_decref(st);
	return ret;
}

int cmd_local_detach(int argc, char **argv)
{
	struct detach_opts o = { 0 };
	struct cb_cinder *c;
	json_t *vol = NULL;
	int ret = EXIT_FAILURE_RUNTIME;

	cb_os_config_init(&o.cfg);
	if (parse_args(argc, argv, &o) == -1) {
		cb_os_config_free(&o.cfg);
		return EXIT_USAGE;
	}
	cli_log_init(o.cfg.debug);
	c = cli_cinder_open(&o.cfg);
	if (c && !(vol = cb_cinder_volume_find(c, o.volume)))
		cli_error("volume %s: %s", o.volume, cb_get_error());
	if (vol && detach(c, vol, &o) == 0)
		ret = EXIT_OK;
	json_decref(vol);
	cb_cinder_close(c);
	cb_os_config_free(&o.cfg);
	return ret;
}
