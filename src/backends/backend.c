#include <config.h>

#include <errno.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "lib/error.h"

static const struct cb_backend_ops *const backends[] = {
	&cb_file_backend,
	&cb_rbd_backend,
};

static const struct cb_backend_ops *find_backend(const char *type)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		for (const char *const *t = backends[i]->volume_types; *t; t++)
			if (strcmp(*t, type) == 0)
				return backends[i];
	return NULL;
}

bool cb_backend_supported(const char *driver_volume_type)
{
	return find_backend(driver_volume_type) != NULL;
}

struct cb_backend *cb_backend_open(const json_t *connection_info,
				   const struct cb_open_opts *opts)
{
	const char *type = json_string_value(json_object_get(connection_info,
							     "driver_volume_type"));
	const json_t *data = json_object_get(connection_info, "data");
	const struct cb_backend_ops *ops;
	struct cb_backend *b;

	if (!json_is_object(connection_info) || !type) {
		cb_set_error(EINVAL, "connection_info has no \"driver_volume_type\" string");
		return NULL;
	}
	if (!json_is_object(data)) {
		cb_set_error(EINVAL, "connection_info has no \"data\" object");
		return NULL;
	}
	ops = find_backend(type);
	if (!ops) {
		cb_set_error(ENOTSUP, "driver_volume_type \"%s\" is not supported", type);
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

json_t *cb_connection_info_load(const char *path)
{
	json_error_t jerr;
	json_t *root;

	if (strcmp(path, "-") == 0)
		root = json_loadf(stdin, 0, &jerr);
	else
		root = json_load_file(path, 0, &jerr);
	if (!root) {
		cb_set_error(EINVAL, "cannot parse connection info %s: %s (line %d)",
			     strcmp(path, "-") == 0 ? "from stdin" : path, jerr.text, jerr.line);
		return NULL;
	}
	/* Cinder's API wraps it as {"connection_info": {...}}; accept both. */
	if (json_is_object(json_object_get(root, "connection_info"))) {
		json_t *inner = json_incref(json_object_get(root, "connection_info"));

		json_decref(root);
		root = inner;
	}
	return root;
}
