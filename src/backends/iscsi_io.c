/* Requests on iSCSI paths: each goes to the path that is up with the
 * fewest in flight; one that fails in transport (its path broke) waits,
 * with those arriving meanwhile, for a path that is up, and is sent
 * again there, until the volume's I/O timeout, after which it fails with
 * EIO.  A write is acknowledged only on the target's GOOD status, so a
 * request sent again never loses one; block writes are idempotent, and a
 * client orders nothing between requests in flight at once.
 *
 * Request slots come from a free list grown in chunks, never freed until
 * close: nothing is allocated per request but libiscsi's task.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi_internal.h"
#include "lib/log.h"

/* A unit attention or a busy target is asked again, this often at most. */
#define RETRIES_MAX 16
/* GET LBA STATUS answers up to this many runs at once. */
#define LBA_STATUS_RUNS 128
#define REQS_PER_CHUNK 64

struct iscsi_req {
	struct iscsi_volume *v;
	struct cb_io *io;
	struct iscsi_path *path;	/* where it is in flight, or NULL */
	struct scsi_task *task;
	uint64_t deadline_ms;
	uint64_t done;			/* bytes of a TRIM / WRITE_ZEROES done */
	uint32_t chunk;			/* bytes of the part in flight */
	bool syncing;			/* a FUA TRIM / WRITE_ZEROES's SYNC CACHE */
	unsigned retries;
	struct scsi_iovec iov;
	struct unmap_list unmap;
	struct iscsi_req *next;
};

struct iscsi_req_chunk {
	struct iscsi_req_chunk *next;
	struct iscsi_req reqs[REQS_PER_CHUNK];
};

static struct iscsi_req *req_get(struct iscsi_volume *v)
{
	struct iscsi_req *r = v->free_reqs;
	unsigned i;

	if (!r) {
		struct iscsi_req_chunk *c = calloc(1, sizeof *c);

		if (!c)
			return NULL;
		c->next = v->chunks;
		v->chunks = c;
		for (i = 0; i < REQS_PER_CHUNK - 1; i++)
			c->reqs[i].next = &c->reqs[i + 1];
		r = &c->reqs[0];
	}
	v->free_reqs = r->next;
	return r;
}

void iscsi_io_free_all(struct iscsi_volume *v)
{
	while (v->chunks) {
		struct iscsi_req_chunk *c = v->chunks;

		v->chunks = c->next;
		free(c);
	}
}

static void complete(struct iscsi_volume *v, struct cb_io *io, int err)
{
	io->complete(io, err);
	cb_inflight_done(&v->inflight);
}

static void finish(struct iscsi_req *r, int err)
{
	struct iscsi_volume *v = r->v;
	struct cb_io *io = r->io;

	r->next = v->free_reqs;
	v->free_reqs = r;
	complete(v, io, err);
}

static void wait_push_tail(struct iscsi_volume *v, struct iscsi_req *r)
{
	r->next = NULL;
	if (v->wait_tail)
		v->wait_tail->next = r;
	else
		v->wait_head = r;
	v->wait_tail = r;
}

/* Back to wait, first in line: it is older than those waiting. */
static void wait_push_head(struct iscsi_volume *v, struct iscsi_req *r)
{
	if (cb_now_ms() >= r->deadline_ms) {
		cb_log(CB_LOG_ERROR, "iSCSI: a request waited %u s for a path: I/O error",
		       v->io_timeout_ms / 1000);
		finish(r, EIO);
		return;
	}
	r->next = v->wait_head;
	v->wait_head = r;
	if (!v->wait_tail)
		v->wait_tail = r;
}

static struct iscsi_req *wait_pop(struct iscsi_volume *v)
{
	struct iscsi_req *r = v->wait_head;

	v->wait_head = r->next;
	if (!v->wait_head)
		v->wait_tail = NULL;
	return r;
}

static struct iscsi_path *pick_path(struct iscsi_volume *v)
{
	struct iscsi_path *best = NULL;
	unsigned i;

	for (i = 0; i < v->n_paths; i++) {
		struct iscsi_path *p = &v->paths[(v->next_path + i) % v->n_paths];

		if (p->state == PATH_UP && (!best || p->inflight < best->inflight))
			best = p;
	}
	v->next_path++;
	return best;
}

static uint32_t part_length(const struct iscsi_req *r, uint32_t max_blocks)
{
	const struct iscsi_volume *v = r->v;
	uint64_t left = r->io->length - r->done, max = (uint64_t)max_blocks * v->block_size;

	return (uint32_t)(left < max ? left : max);
}

static void task_done(struct iscsi_context *ctx, int status, void *data, void *arg);

/* WRITE SAME with UNMAP where a hole may do; else zeroes written from a
 * buffer: WRITE SAME without UNMAP is what targets get wrong (tgtd fails
 * it with a medium error), and it saves nothing on a thick LUN. */
static struct scsi_task *zero_task(struct iscsi_req *r, struct iscsi_context *ctx, int lun,
				   uint64_t lba)
{
	struct iscsi_volume *v = r->v;
	uint32_t bs = v->block_size;

	if (v->ws_unmap && (r->io->flags & CB_IO_MAY_TRIM)) {
		r->chunk = part_length(r, v->max_ws);
		r->iov = (struct scsi_iovec){ v->zeroes, bs };
		return iscsi_writesame16_iov_task(ctx, lun, lba, NULL, bs, r->chunk / bs, 0, 1, 0,
						  0, task_done, r, &r->iov, 1);
	}
	r->chunk = part_length(r, ISCSI_ZEROES_SIZE / bs);
	r->iov = (struct scsi_iovec){ v->zeroes, r->chunk };
	return iscsi_write16_iov_task(ctx, lun, lba, NULL, r->chunk, bs, 0, 0, 0, 0, 0, task_done,
				      r, &r->iov, 1);
}

static struct scsi_task *new_task(struct iscsi_req *r, struct iscsi_context *ctx, int lun)
{
	struct iscsi_volume *v = r->v;
	struct cb_io *io = r->io;
	uint32_t bs = v->block_size;
	uint64_t lba = (io->offset + r->done) / bs;
	int fua = (io->flags & CB_IO_FUA) != 0;

	if (r->syncing || io->op == CB_IO_FLUSH)
		return iscsi_synchronizecache16_task(ctx, lun, 0, 0, 0, 0, task_done, r);
	switch (io->op) {
	case CB_IO_READ:
		r->iov = (struct scsi_iovec){ io->buf, io->length };
		return iscsi_read16_iov_task(ctx, lun, lba, io->length, bs, 0, 0, 0, 0, 0,
					     task_done, r, &r->iov, 1);
	case CB_IO_WRITE:
		r->iov = (struct scsi_iovec){ io->buf, io->length };
		return iscsi_write16_iov_task(ctx, lun, lba, NULL, io->length, bs, 0, 0, fua, 0, 0,
					      task_done, r, &r->iov, 1);
	case CB_IO_TRIM:
		r->chunk = part_length(r, v->max_unmap);
		r->unmap = (struct unmap_list){ lba, r->chunk / bs };
		return iscsi_unmap_task(ctx, lun, 0, 0, &r->unmap, 1, task_done, r);
	case CB_IO_WRITE_ZEROES:
		return zero_task(r, ctx, lun, lba);
	case CB_IO_EXTENTS:
		return iscsi_get_lba_status_task(ctx, lun, lba, 8 + 16 * LBA_STATUS_RUNS,
						 task_done, r);
	default:
		return NULL;
	}
}

/* 0, or -1 when the path cannot take it (and is failed). */
static int send_on(struct iscsi_req *r, struct iscsi_path *p)
{
	uint64_t now = cb_now_ms();
	unsigned left_s = (unsigned)((r->deadline_ms - now + 999) / 1000);

	/* libiscsi times the PDU out when the target holds it past the
	 * request's own deadline (a hung target that still answers pings). */
	iscsi_set_timeout(p->ctx, left_s ? (int)left_s : 1);
	r->task = new_task(r, p->ctx, p->addr->lun);
	if (!r->task) {
		iscsi_path_fail(p, iscsi_get_error(p->ctx));
		return -1;
	}
	r->path = p;
	p->inflight++;
	p->unsent++;
	return 0;
}

void iscsi_io_dispatch(struct iscsi_volume *v)
{
	for (;;) {
		bool failed = false;
		struct iscsi_path *p;

		while (v->wait_head && (p = pick_path(v))) {
			struct iscsi_req *r = wait_pop(v);

			if (send_on(r, p) == -1) {
				wait_push_head(v, r);
				failed = true;
			}
		}
		if (!failed)
			return;
		iscsi_paths_reap(v);
	}
}

void iscsi_io_expire(struct iscsi_volume *v)
{
	uint64_t now = cb_now_ms();
	struct iscsi_req *keep = NULL, *r;
	unsigned expired = 0;

	while (v->wait_head) {
		r = wait_pop(v);
		if (now >= r->deadline_ms) {
			finish(r, EIO);
			expired++;
		} else {
			r->next = keep;
			keep = r;
		}
	}
	/* keep is newest first: pushing each at the head restores the order. */
	while (keep) {
		r = keep;
		keep = r->next;
		r->next = v->wait_head;
		v->wait_head = r;
		if (!v->wait_tail)
			v->wait_tail = r;
	}
	if (expired)
		cb_log(CB_LOG_ERROR, "iSCSI: %u requests waited %u s for a path (no path is up: "
		       "%s): I/O error", expired, v->io_timeout_ms / 1000, v->paths[0].error);
}

void iscsi_io_submit(struct iscsi_volume *v, struct cb_io *io)
{
	uint32_t mask = v->block_size - 1;
	struct iscsi_req *r;

	/* A block status may start and end anywhere: it is asked of the
	 * block holding its start, and reported from its offset on. */
	if ((io->offset | io->length) & mask && io->op != CB_IO_FLUSH && io->op != CB_IO_EXTENTS) {
		cb_log(CB_LOG_ERROR, "iSCSI: a request at %llu of %u bytes is not aligned to the "
		       "LUN's %u-byte blocks", (unsigned long long)io->offset, io->length,
		       v->block_size);
		complete(v, io, EINVAL);
		return;
	}
	r = req_get(v);
	if (!r) {
		complete(v, io, ENOMEM);
		return;
	}
	*r = (struct iscsi_req){ .v = v, .io = io,
				 .deadline_ms = cb_now_ms() + v->io_timeout_ms };
	wait_push_tail(v, r);
	iscsi_io_dispatch(v);
}

static int report_extents(struct iscsi_req *r, struct scsi_task *task)
{
	struct scsi_get_lba_status *s = scsi_datain_unmarshall(task);
	struct cb_io *io = r->io;
	uint64_t bs = r->v->block_size, pos = io->offset, end = io->offset + io->length;
	uint32_t i;

	if (!s)
		return EIO;
	for (i = 0; i < s->num_descriptors && pos < end; i++) {
		const struct scsi_lba_status_descriptor *d = &s->descriptors[i];
		uint64_t from = d->lba * bs, to = from + (uint64_t)d->num_blocks * bs;

		if (to <= pos)
			continue;
		if (from > pos)
			break;	/* a gap: the client asks again from there */
		if (to > end)
			to = end;
		if (io->extent(io, pos, to - pos,
			       d->provisioning != SCSI_PROVISIONING_TYPE_MAPPED))
			return 0;
		pos = to;
	}
	if (pos == io->offset)	/* nothing said of it: data */
		io->extent(io, pos, end - pos, false);
	return 0;
}

/* After GOOD: the request's next part, or its end. */
static void advance(struct iscsi_req *r, struct scsi_task *task)
{
	struct cb_io *io = r->io;

	if (io->op == CB_IO_EXTENTS && !r->syncing) {
		finish(r, report_extents(r, task));
		return;
	}
	if ((io->op == CB_IO_TRIM || io->op == CB_IO_WRITE_ZEROES) && !r->syncing) {
		r->done += r->chunk;
		if (r->done < io->length || (io->flags & CB_IO_FUA)) {
			r->syncing = r->done == io->length;
			r->retries = 0;
			wait_push_head(r->v, r);
			return;
		}
	}
	finish(r, 0);
}

/* SBC: SPACE ALLOCATION FAILED WRITE PROTECT, a thin LUN out of room. */
#define ASCQ_SPACE_ALLOCATION_FAILED 0x2707

static int sense_errno(const struct iscsi_req *r, const struct scsi_sense *sense)
{
	enum cb_io_op op = r->io->op;

	switch (sense->key) {
	case SCSI_SENSE_ILLEGAL_REQUEST:
		return op == CB_IO_TRIM || op == CB_IO_WRITE_ZEROES || op == CB_IO_EXTENTS ?
			       ENOTSUP : EINVAL;
	case SCSI_SENSE_DATA_PROTECTION:
		return sense->ascq == ASCQ_SPACE_ALLOCATION_FAILED ?
			       ENOSPC : EPERM;
	default:
		return EIO;
	}
}

static bool worth_retrying(int status, const struct scsi_sense *sense)
{
	if (status == SCSI_STATUS_BUSY || status == SCSI_STATUS_TASK_SET_FULL)
		return true;
	return status == SCSI_STATUS_CHECK_CONDITION &&
	       (sense->key == SCSI_SENSE_UNIT_ATTENTION || sense->key == SCSI_SENSE_NOT_READY ||
		sense->key == SCSI_SENSE_COMMAND_ABORTED);
}

static bool scsi_answer(int status)
{
	return status == SCSI_STATUS_GOOD || status == SCSI_STATUS_CHECK_CONDITION ||
	       status == SCSI_STATUS_BUSY || status == SCSI_STATUS_TASK_SET_FULL ||
	       status == SCSI_STATUS_RESERVATION_CONFLICT || status == SCSI_STATUS_CONDITION_MET;
}

static void task_done(struct iscsi_context *ctx, int status, void *data, void *arg)
{
	struct iscsi_req *r = arg;
	struct iscsi_path *p = r->path;
	struct scsi_task *task = r->task;

	r->path = NULL;
	r->task = NULL;
	p->inflight--;
	if (!scsi_answer(status)) {
		/* The path broke under it (or libiscsi cancelled it as it
		 * did): the request waits for a path. */
		iscsi_path_fail(p, status == SCSI_STATUS_CANCELLED ? "connection lost" :
				   status == SCSI_STATUS_TIMEOUT ? "a request timed out" :
								   iscsi_get_error(ctx));
		wait_push_head(r->v, r);
	} else if (status == SCSI_STATUS_GOOD || status == SCSI_STATUS_CONDITION_MET) {
		advance(r, task);
	} else if (worth_retrying(status, &task->sense) && r->retries++ < RETRIES_MAX) {
		wait_push_head(r->v, r);
	} else {
		int err = status == SCSI_STATUS_CHECK_CONDITION ? sense_errno(r, &task->sense) : EIO;

		if (err == EIO || err == EINVAL)
			cb_log(CB_LOG_ERROR, "iSCSI %s: %s", p->addr->portal, iscsi_get_error(ctx));
		finish(r, err);
	}
	scsi_free_scsi_task(task);
}
