/* A backend's count of requests between submit and completion, which
 * close waits to see drop to zero: completions come from the backend's
 * own threads, and nothing may be freed under one still running. */
#ifndef CB_BACKENDS_INFLIGHT_H
#define CB_BACKENDS_INFLIGHT_H

#include <pthread.h>

struct cb_inflight {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned n;
};

static inline void cb_inflight_init(struct cb_inflight *f)
{
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->idle, NULL);
	f->n = 0;
}

/* Returns the count with this request: 1 when it is alone in flight. */
static inline unsigned cb_inflight_start(struct cb_inflight *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = ++f->n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static inline void cb_inflight_done(struct cb_inflight *f)
{
	pthread_mutex_lock(&f->lock);
	if (--f->n == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
}

/* Waits for the count to reach zero, then frees the lock. */
static inline void cb_inflight_drain(struct cb_inflight *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->n)
		pthread_cond_wait(&f->idle, &f->lock);
	pthread_mutex_unlock(&f->lock);
	pthread_cond_destroy(&f->idle);
	pthread_mutex_destroy(&f->lock);
}

#endif
