#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "file_map.h"
#include "lib/log.h"

struct span {
	char *base;
	uint64_t len;
	struct span *older;
};

struct file_map {
	/* The longest span; readers load it without the lock. */
	struct span *cur;
	pthread_mutex_t grow_lock;
};

static struct span *span_new(int fd, uint64_t size, struct span *older)
{
	struct span *s;
	void *p;

	if (size == 0 || size > SIZE_MAX)
		return NULL;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		cb_log(CB_LOG_DEBUG, "file backend: no shared mapping of %llu bytes of the "
		       "volume (%s); writes use write(2)", (unsigned long long)size,
		       strerror(errno));
		return NULL;
	}
	s = malloc(sizeof *s);
	if (!s) {
		munmap(p, (size_t)size);
		return NULL;
	}
	/* Writes through it are to cached pages: no read-around on a fault.
	 * Children (fusermount3) have no use for it. */
	madvise(p, (size_t)size, MADV_RANDOM);
	madvise(p, (size_t)size, MADV_DONTFORK);
	*s = (struct span){ p, size, older };
	return s;
}

struct file_map *file_map_new(int fd, uint64_t size)
{
	struct file_map *m = malloc(sizeof *m);

	if (!m)
		return NULL;
	m->cur = span_new(fd, size, NULL);
	if (!m->cur) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->grow_lock, NULL);
	return m;
}

void file_map_grow(struct file_map *m, int fd, uint64_t size)
{
	struct span *s;

	pthread_mutex_lock(&m->grow_lock);
	if (size > m->cur->len && (s = span_new(fd, size, m->cur)))
		__atomic_store_n(&m->cur, s, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->grow_lock);
}

char *file_map_at(struct file_map *m, uint64_t offset, uint32_t length)
{
	struct span *s = __atomic_load_n(&m->cur, __ATOMIC_ACQUIRE);

	if (offset > s->len || length > s->len - offset)
		return NULL;
	return s->base + offset;
}

void file_map_free(struct file_map *m)
{
	struct span *s, *older;

	if (!m)
		return;
	for (s = m->cur; s; s = older) {
		older = s->older;
		munmap(s->base, (size_t)s->len);
		free(s);
	}
	pthread_mutex_destroy(&m->grow_lock);
	free(m);
}
