/* The iscsi backend: a LUN on an iSCSI target (Cinder's LVM and most
 * array drivers), through libiscsi in userspace: no kernel initiator, no
 * iscsiadm.  It logs in with this host's initiator name (what
 * get-connector reports, so the target's ACL admits it) on one path, or
 * with multipath on every path the connection_info lists (or SendTargets
 * discovery finds, iscsi_discovery.c), and keeps each up (iscsi_path.c);
 * requests go to the healthy paths (iscsi_io.c).
 *
 * Opening logs in and asks the LUN what it is (READ CAPACITY 16, the
 * block limits and logical block provisioning VPD pages) synchronously;
 * after that everything runs under one event loop's lock (on its thread,
 * or on a submitting thread while it sleeps), as a libiscsi context is
 * not thread-safe.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "host/initiator.h"
#include "iscsi_internal.h"
#include "lib/error.h"
#include "lib/log.h"

#define IO_TIMEOUT_DEFAULT_S 60
#define IO_TIMEOUT_MAX_S 86400
/* READ/WRITE bytes per request when the LUN sets no lower limit. */
#define XFER_MAX (8u << 20)
/* TRIM / WRITE_ZEROES bytes per command when the LUN sets no limit. */
#define RANGE_MAX (1u << 30)

struct lun_facts {
	bool has_b0, has_b2;
	struct scsi_readcapacity16 cap;
	struct scsi_inquiry_block_limits limits;
	struct scsi_inquiry_logical_block_provisioning lbp;
};

static int io_timeout(const struct cb_open_opts *opts, unsigned *ms)
{
	unsigned s;

	if (cb_backend_option_seconds(opts, &cb_iscsi_backend, "io_timeout",
				      IO_TIMEOUT_DEFAULT_S, IO_TIMEOUT_MAX_S, &s) == -1)
		return -1;
	*ms = s * 1000u;
	return 0;
}

/* A synchronous SCSI command's answer, unmarshalled into out. */
static int ask(struct iscsi_context *ctx, struct scsi_task *task, void *out, size_t len,
	       const char *what)
{
	void *d = task && task->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(task) : NULL;

	if (!d) {
		cb_set_error(EIO, "the iSCSI LUN did not answer %s: %s", what,
			     iscsi_get_error(ctx));
		if (task)
			scsi_free_scsi_task(task);
		return -1;
	}
	memcpy(out, d, len);
	scsi_free_scsi_task(task);
	return 0;
}

static int vpd_pages(struct iscsi_context *ctx, int lun, struct lun_facts *f)
{
	struct scsi_task *t = iscsi_inquiry_sync(ctx, lun, 1, SCSI_INQUIRY_PAGECODE_SUPPORTED_VPD_PAGES, 255);
	struct scsi_inquiry_supported_pages *sp = t && t->status == SCSI_STATUS_GOOD ?
							  scsi_datain_unmarshall(t) : NULL;
	int i;

	for (i = 0; sp && i < sp->num_pages; i++) {
		f->has_b0 |= sp->pages[i] == SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS;
		f->has_b2 |= sp->pages[i] == SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING;
	}
	if (t)
		scsi_free_scsi_task(t);
	if (f->has_b0 && ask(ctx, iscsi_inquiry_sync(ctx, lun, 1, SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS,
						     255),
			     &f->limits, sizeof f->limits, "INQUIRY (block limits)"))
		return -1;
	if (f->has_b2 &&
	    ask(ctx, iscsi_inquiry_sync(ctx, lun, 1,
					SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING, 255),
		&f->lbp, sizeof f->lbp, "INQUIRY (logical block provisioning)"))
		return -1;
	return 0;
}

static uint32_t blocks_max(uint64_t lun_max, uint32_t block_size, uint32_t bytes_max)
{
	uint64_t ours = bytes_max / block_size;

	return (uint32_t)(lun_max && lun_max < ours ? lun_max : ours);
}

/* What the LUN is: its size, block size and what it takes. */
static int probe(struct iscsi_volume *v, struct iscsi_path *p)
{
	struct lun_facts f = { 0 };
	uint32_t bs;

	if (ask(p->ctx, iscsi_readcapacity16_sync(p->ctx, p->addr->lun), &f.cap, sizeof f.cap,
		"READ CAPACITY 16") || vpd_pages(p->ctx, p->addr->lun, &f))
		return -1;
	bs = f.cap.block_length;
	if (bs < 512 || bs > (64u << 10) || (bs & (bs - 1))) {
		cb_set_error(ENOTSUP, "the iSCSI LUN has %u-byte blocks: only powers of two "
			     "from 512 to 65536 are served", bs);
		return -1;
	}
	v->block_size = bs;
	v->size = (f.cap.returned_lba + 1) * bs;
	v->max_xfer = blocks_max(f.has_b0 ? f.limits.max_xfer_len : 0, bs, XFER_MAX) * bs;
	v->max_unmap = blocks_max(f.has_b0 ? f.limits.max_unmap : 0, bs, RANGE_MAX);
	v->max_ws = blocks_max(f.has_b0 ? f.limits.max_ws_len : 0, bs, RANGE_MAX);
	v->can_unmap = f.cap.lbpme && f.lbp.lbpu && f.has_b0 && f.limits.max_unmap &&
		       v->target.discard;
	v->ws_unmap = f.cap.lbpme && f.lbp.lbpws;
	/* A deallocated block reads as zeroes only with LBPRZ: without it
	 * a hole says nothing of the data. */
	v->can_extents = f.cap.lbpme && f.cap.lbprz;
	return 0;
}

/* Logs in on every path; refuses as enforce_multipath says. */
static int log_in(struct iscsi_volume *v, const struct cb_open_opts *opts)
{
	char first_error[512] = "";
	unsigned i, up = 0;

	for (i = 0; i < v->n_paths; i++) {
		v->paths[i] = (struct iscsi_path){ .v = v, .addr = &v->target.paths[i] };
		if (iscsi_path_login_sync(&v->paths[i]) == 0)
			up++;
		else if (!first_error[0])
			snprintf(first_error, sizeof first_error, "%s", cb_get_error());
	}
	if (!up) {
		cb_set_error(EIO, "%s%s", first_error,
			     v->n_paths > 1 ? " (and no other path logged in either)" : "");
		return -1;
	}
	if (opts->enforce_multipath && up < 2) {
		cb_set_error(EIO, "multipath is enforced, but only %u of the %u paths logged in%s%s",
			     up, v->n_paths, first_error[0] ? ": " : "", first_error);
		return -1;
	}
	for (i = 0; i < v->n_paths; i++)
		if (v->paths[i].state != PATH_UP)
			cb_log(CB_LOG_WARNING, "iSCSI path %s is down (%s); it is tried again in "
			       "the background", v->paths[i].addr->portal, v->paths[i].error);
	return 0;
}

static struct iscsi_path *first_up(struct iscsi_volume *v)
{
	unsigned i;

	for (i = 0; i < v->n_paths; i++)
		if (v->paths[i].state == PATH_UP)
			return &v->paths[i];
	return NULL;
}

static int loop_poll_fds(void *ctx, struct pollfd *p)
{
	struct iscsi_volume *v = ctx;

	return iscsi_paths_poll_fds(v, p, v->polled);
}

static void loop_service(void *ctx, struct pollfd *p, int n)
{
	struct iscsi_volume *v = ctx;

	iscsi_paths_service(v, p, v->polled, n);
	iscsi_io_dispatch(v);
}

static void loop_submit(void *ctx, struct cb_io *io)
{
	iscsi_io_submit(ctx, io);
}

static void loop_tick(void *ctx)
{
	struct iscsi_volume *v = ctx;

	iscsi_paths_tick(v);
	iscsi_io_expire(v);
	iscsi_io_dispatch(v);
}

static void iscsi_backend_close(void *handle)
{
	struct iscsi_volume *v = handle;

	cb_inflight_drain(&v->inflight);
	cb_event_loop_stop(v->loop);
	iscsi_paths_close(v);
	iscsi_io_free_all(v);
	iscsi_target_wipe(&v->target);
	free(v->zeroes);
	pthread_mutex_destroy(&v->shown_lock);
	free(v);
}

/* Where discovery fails, the one portal connection_info names still
 * serves, unless multipath is enforced. */
static int discover(struct iscsi_volume *v, const struct cb_open_opts *opts)
{
	if (iscsi_discover(&v->target, v->initiator) == 0)
		return 0;
	if (opts->enforce_multipath) {
		cb_set_error(cb_get_errno(), "multipath is enforced, but the connection_info "
			     "names one portal, and %s", cb_get_error());
		return -1;
	}
	cb_log(CB_LOG_WARNING, "%s; serving on the one portal the connection_info names",
	       cb_get_error());
	return 0;
}

static int open_volume(struct iscsi_volume *v, const json_t *data,
		       const struct cb_open_opts *opts)
{
	struct cb_event_source src = {
		.ctx = v, .poll_fds = loop_poll_fds, .service = loop_service,
		.submit = loop_submit, .tick = loop_tick, .tick_ms = 100,
	};

	if (io_timeout(opts, &v->io_timeout_ms) ||
	    iscsi_target_parse(data, opts->multipath || opts->enforce_multipath, &v->target) ||
	    cb_initiator_name(v->initiator, sizeof v->initiator))
		return -1;
	if (v->target.discover && discover(v, opts) == -1)
		return -1;
	v->n_paths = v->target.n_paths;
	v->read_only = opts->read_only || v->target.read_only;
	if (log_in(v, opts) || probe(v, first_up(v)))
		return -1;
	v->zeroes = calloc(1, ISCSI_ZEROES_SIZE);
	if (!v->zeroes) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	v->loop = cb_event_loop_start(&src);
	return v->loop ? 0 : -1;
}

static void *iscsi_backend_open(const json_t *data, const struct cb_open_opts *opts)
{
	struct iscsi_volume *v = calloc(1, sizeof *v);

	if (!v) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	cb_inflight_init(&v->inflight);
	pthread_mutex_init(&v->shown_lock, NULL);
	if (open_volume(v, data, opts) == 0)
		return v;
	iscsi_backend_close(v);
	return NULL;
}

static void iscsi_backend_submit(void *handle, struct cb_io *io)
{
	struct iscsi_volume *v = handle;

	bool alone = cb_inflight_start(&v->inflight) == 1;

	cb_event_loop_submit(v->loop, io, alone);
}

static int iscsi_backend_poll(void *handle, struct pollfd *fds, int n, int timeout_ms)
{
	struct iscsi_volume *v = handle;

	return cb_event_loop_poll(v->loop, fds, n, timeout_ms);
}

static void iscsi_backend_poll_leave(void *handle)
{
	struct iscsi_volume *v = handle;

	cb_event_loop_leave(v->loop);
}

static void iscsi_backend_get_caps(void *handle, struct cb_backend_caps *caps)
{
	struct iscsi_volume *v = handle;

	*caps = (struct cb_backend_caps){
		.size = v->size,
		.block_min = v->block_size,
		.block_pref = v->block_size > 4096 ? v->block_size : 4096,
		.block_max = v->max_xfer,
		.logical_block_size = v->block_size,
		.read_only = v->read_only,
		.can_flush = true,
		.can_fua = true,
		.can_trim = v->can_unmap,
		.can_zero = true,
		.can_extents = v->can_extents,
		/* One LUN: every path reaches the same blocks. */
		.multi_conn = true,
	};
}

static json_t *iscsi_backend_paths(void *handle)
{
	return iscsi_paths_json(handle);
}

static const char *const iscsi_volume_types[] = { "iscsi", NULL };

static const struct cb_backend_option iscsi_options[] = {
	{ .name = "io_timeout",
	  .help = "seconds a request waits for a working path before it fails (default 60)" },
	{ .name = NULL },
};

const struct cb_backend_ops cb_iscsi_backend = {
	.name = "iscsi",
	.volume_types = iscsi_volume_types,
	.options = iscsi_options,
	.open = iscsi_backend_open,
	.get_caps = iscsi_backend_get_caps,
	.submit = iscsi_backend_submit,
	.poll = iscsi_backend_poll,
	.poll_leave = iscsi_backend_poll_leave,
	.paths = iscsi_backend_paths,
	.close = iscsi_backend_close,
};
