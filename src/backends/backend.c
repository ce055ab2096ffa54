#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "connection_info.h"
#include "lib/error.h"

int cb_backend_grow(struct cb_backend *b, uint64_t *size)
{
	uint64_t old = cb_backend_size(b);

	if (!b->ops->current_size) {
		cb_set_error(ENOTSUP, "the %s backend cannot tell a new size", b->ops->name);
		return -1;
	}
	if (b->ops->current_size(b->handle, size) == -1)
		return -1;
	if (*size < old) {
		cb_set_error(EINVAL, "the volume shrank from %" PRIu64 " to %" PRIu64
			     " bytes: shrinking is refused, the device stays %" PRIu64
			     " bytes", old, *size, old);
		return -1;
	}
	__atomic_store_n(&b->caps.size, *size, __ATOMIC_RELAXED);
	return 0;
}

const struct cb_backend_ops *const cb_backends[] = {
	&cb_file_backend,
#ifdef HAVE_RBD
	&cb_rbd_backend,
#endif
#ifdef HAVE_NFS
	&cb_nfs_backend,
#endif
#ifdef HAVE_ISCSI
	&cb_iscsi_backend,
#endif
	NULL,
};

/* Room for "<backend>.<name>": both are short words of ours. */
#define OPTION_KEY_MAX 128

/* "keyring, id": what ops takes, for messages. */
static void option_names(const struct cb_backend_ops *ops, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct cb_backend_option *o = ops->options; o && o->name && used < len; o++)
		used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "", o->name);
}

static void backend_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; cb_backends[i] && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 cb_backends[i]->name);
}

static const struct cb_backend_ops *backend_named(const char *name, size_t len)
{
	for (size_t i = 0; cb_backends[i]; i++)
		if (strlen(cb_backends[i]->name) == len &&
		    memcmp(cb_backends[i]->name, name, len) == 0)
			return cb_backends[i];
	return NULL;
}

static const struct cb_backend_option *declared(const struct cb_backend_ops *ops,
						 const char *name)
{
	for (const struct cb_backend_option *o = ops->options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

const struct cb_backend_option *cb_backend_option_find(const char *key,
							const struct cb_backend_ops **ops_out)
{
	const char *dot = strchr(key, '.');
	const struct cb_backend_ops *ops;
	const struct cb_backend_option *o;
	char names[256];

	if (!dot || dot == key || !dot[1]) {
		backend_names(names, sizeof names);
		cb_set_error(EINVAL, "backend option '%s' is not BACKEND.NAME "
			     "(backends: %s)", key, names);
		return NULL;
	}
	ops = backend_named(key, dot - key);
	if (!ops) {
		backend_names(names, sizeof names);
		cb_set_error(EINVAL, "unknown backend option '%s': no backend is called "
			     "'%.*s' (backends: %s)", key, (int)(dot - key), key, names);
		return NULL;
	}
	o = declared(ops, dot + 1);
	if (!o) {
		option_names(ops, names, sizeof names);
		cb_set_error(EINVAL, "unknown backend option '%s': %s takes %s", key,
			     ops->name, *names ? names : "no options");
		return NULL;
	}
	if (ops_out)
		*ops_out = ops;
	return o;
}

int cb_backend_options_check(const json_t *options)
{
	const char *key;
	json_t *value;

	if (!options)
		return 0;
	if (!json_is_object(options)) {
		cb_set_error(EINVAL, "the backend options are not a JSON object");
		return -1;
	}
	/* jansson's iterators take no const, and only read here. */
	json_object_foreach((json_t *)options, key, value) {
		const struct cb_backend_option *o = cb_backend_option_find(key, NULL);

		if (!o)
			return -1;
		if (!json_is_string(value)) {
			cb_set_error(EINVAL, "backend option '%s' is not a string", key);
			return -1;
		}
		if (o->path && !*json_string_value(value)) {
			cb_set_error(EINVAL, "backend option '%s' is empty: it names a file", key);
			return -1;
		}
	}
	return 0;
}

const char *cb_backend_option(const struct cb_open_opts *o, const struct cb_backend_ops *ops,
			      const char *name)
{
	char key[OPTION_KEY_MAX];

	if (!o->options)
		return NULL;
	if ((size_t)snprintf(key, sizeof key, "%s.%s", ops->name, name) >= sizeof key)
		return NULL;
	return json_string_value(json_object_get(o->options, key));
}

int cb_backend_option_seconds(const struct cb_open_opts *o, const struct cb_backend_ops *ops,
			      const char *name, unsigned dflt, unsigned max, unsigned *seconds)
{
	const char *s = cb_backend_option(o, ops, name);
	char *end;
	unsigned long n;

	*seconds = dflt;
	if (!s)
		return 0;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || s[0] < '0' || s[0] > '9' || n < 1 || n > max) {
		cb_set_error(EINVAL, "%s.%s is a number of seconds from 1 to %u, not '%s'",
			     ops->name, name, max, s);
		return -1;
	}
	*seconds = (unsigned)n;
	return 0;
}

struct cb_backend *cb_backend_open(const json_t *connection_info,
				   const struct cb_open_opts *opts)
{
	const struct cb_backend_ops *ops = cb_connection_info_backend(connection_info);
	const json_t *data = cb_connection_info_data(connection_info);
	struct cb_backend *b;

	if (!ops || cb_backend_options_check(opts->options) == -1)
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
