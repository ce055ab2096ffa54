#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "io_pool.h"
#include "lib/error.h"

struct io_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cb_io *head, *tail;
	bool stopping;
	unsigned idle;		/* threads waiting on wake: skip the signal when 0 */
	io_pool_run_fn run;
	void *ctx;
	unsigned nthreads;
	pthread_t threads[];
};

static struct cb_io *pop_locked(struct io_pool *p)
{
	struct cb_io *io = p->head;

	if (io) {
		p->head = io->next;
		if (!p->head)
			p->tail = NULL;
		io->next = NULL;
	}
	return io;
}

static void *worker(void *arg)
{
	struct io_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct cb_io *io = pop_locked(p);

		if (io) {
			pthread_mutex_unlock(&p->lock);
			p->run(p->ctx, io);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (p->stopping)
			break;
		p->idle++;
		pthread_cond_wait(&p->wake, &p->lock);
		p->idle--;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct io_pool *io_pool_new(unsigned nthreads, io_pool_run_fn run, void *ctx)
{
	struct io_pool *p = calloc(1, sizeof *p + nthreads * sizeof p->threads[0]);
	int err;

	if (!p) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->run = run;
	p->ctx = ctx;
	for (p->nthreads = 0; p->nthreads < nthreads; p->nthreads++) {
		err = pthread_create(&p->threads[p->nthreads], NULL, worker, p);
		if (err) {
			io_pool_free(p);
			cb_set_error_errno(err, "cannot start I/O thread");
			return NULL;
		}
	}
	return p;
}

void io_pool_push(struct io_pool *p, struct cb_io *io)
{
	io->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = io;
	else
		p->head = io;
	p->tail = io;
	if (p->idle)
		pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void io_pool_free(struct io_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
