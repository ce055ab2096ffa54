#include <config.h>

#include <errno.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "connection_info.h"
#include "lib/error.h"

const struct cb_backend_ops *const cb_backends[] = {
	&cb_file_backend,
#ifdef HAVE_RBD
	&cb_rbd_backend,
#endif
	NULL,
};

struct cb_backend *cb_backend_open(const json_t *connection_info,
				   const struct cb_open_opts *opts)
{
	const struct cb_backend_ops *ops = cb_connection_info_backend(connection_info);
	const json_t *data = cb_connection_info_data(connection_info);
	struct cb_backend *b;

	if (!ops)
		return NULL;
	if (!json_is_object(data)) {
		cb_set_error(EINVAL, "connection_info has no \"data\" object");
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	b->ops = ops;
	b->handle = ops->open(data, opts);
	if (!b->handle) {
		free(b);
		return NULL;
	}
	ops->get_caps(b->handle, &b->caps);
	if (b->caps.block_max == 0 || b->caps.block_min == 0) {
		ops->close(b->handle);
		free(b);
		cb_set_error(EINVAL, "backend %s reported no block sizes", ops->name);
		return NULL;
	}
	return b;
}

void cb_backend_close(struct cb_backend *b)
{
	if (!b)
		return;
	b->ops->close(b->handle);
	free(b);
}

struct sync_io {
	struct cb_io io;
	sem_t done;
	int err;
};

static void sync_io_complete(struct cb_io *io, int err)
{
	struct sync_io *s = (struct sync_io *)((char *)io - offsetof(struct sync_io, io));

	s->err = err;
	sem_post(&s->done);
}

int cb_backend_io_sync(struct cb_backend *b, enum cb_io_op op, uint32_t flags,
		       uint64_t offset, uint32_t length, void *buf)
{
	struct sync_io s = {
		.io = { .op = op, .flags = flags, .offset = offset,
			.length = length, .buf = buf, .complete = sync_io_complete },
	};

	sem_init(&s.done, 0, 0);
	cb_backend_submit(b, &s.io);
	while (sem_wait(&s.done) == -1 && errno == EINTR)
		;
	sem_destroy(&s.done);
	return s.err;
}
