/* The engine handle: where state lives, which helper serves, which local
 * paths Cinder may name.  The transactions are in attach.c and detach.c. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "lib/error.h"

#define HELPER_ENV "CINDER_BRICK_SERVE"
#define HELPER_NAME "cinder-brick-serve"

void error_save(struct saved_error *s)
{
	s->errnum = cb_get_errno();
	snprintf(s->msg, sizeof s->msg, "%s", cb_get_error());
}

void error_restore(const struct saved_error *s)
{
	cb_set_error(s->errnum, "%s", s->msg);
}

static char *dup_or_default(const char *s, const char *dflt)
{
	char *d = strdup(s ? s : dflt);

	if (!d)
		cb_set_error(ENOMEM, "out of memory");
	return d;
}

/* Resolved when it exists: the FUSE file's path is compared with what
 * the kernel reports for the loop device, which has no symlinks in it. */
static char *state_dir_of(const char *dir)
{
	char *real = realpath(dir, NULL);

	return real ? real : dup_or_default(dir, NULL);
}

struct cb_engine *cb_engine_new(const struct cb_engine_opts *opts)
{
	static const struct cb_engine_opts none;
	struct cb_engine *e = calloc(1, sizeof *e);
	const char *helper;

	if (!opts)
		opts = &none;
	if (!e) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	helper = opts->serve_helper ? opts->serve_helper : getenv(HELPER_ENV);
	e->state_dir = state_dir_of(opts->state_dir ? opts->state_dir : CB_ENGINE_STATE_DIR);
	e->serve_helper = dup_or_default(helper && *helper ? helper : NULL,
					 CB_PKGLIBEXECDIR "/" HELPER_NAME);
	if (!e->state_dir || !e->serve_helper || local_policy_init(e, opts) == -1) {
		cb_engine_free(e);
		return NULL;
	}
	return e;
}

void cb_engine_free(struct cb_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nlocal_paths; i++)
		free(e->local_paths[i]);
	free(e->local_paths);
	free(e->local_paths_file);
	free(e->state_dir);
	free(e->serve_helper);
	free(e);
}

/* With a token cache in the state directory, unless the caller has one:
 * a warm attach or detach then skips Keystone. */
struct cb_cinder *engine_cinder_open(struct cb_engine *e, const struct cb_os_config *cfg)
{
	struct cb_os_config mine;
	struct cb_cinder *c = NULL;
	char *dir = NULL;

	if (!cfg->token_cache_dir && asprintf(&dir, "%s/tokens", e->state_dir) < 0) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	if (cb_os_config_copy(&mine, cfg) == 0) {
		if (dir) {
			mine.token_cache_dir = dir;
			dir = NULL;
		}
		c = cb_cinder_open(&mine);
		if (!c)
			cb_set_error(cb_get_errno(), "cannot reach Cinder: %s", cb_get_error());
	}
	cb_os_config_free(&mine);
	free(dir);
	return c;
}

static void check_health(const struct cb_engine *e, const struct cb_attachment *a,
			 struct cb_attachment_health *h)
{
	char paths[PATH_MAX];

	h->alive = serving_alive(a);
	h->device_present = device_attached(a);
	if (h->alive && state_paths_path(e, a->volume_id, paths, sizeof paths) == 0)
		h->paths = json_load_file(paths, 0, NULL);
}

int cb_engine_list(struct cb_engine *e, struct cb_attachment **atts,
		   struct cb_attachment_health **health, size_t *n)
{
	if (state_list(e, atts, n) == -1)
		return -1;
	*health = calloc(*n ? *n : 1, sizeof **health);
	if (!*health) {
		cb_engine_list_free(*atts, NULL, *n);
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		check_health(e, &(*atts)[i], &(*health)[i]);
	return 0;
}

void cb_engine_list_free(struct cb_attachment *atts, struct cb_attachment_health *health,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cb_attachment_clear(&atts[i]);
		if (health)
			json_decref(health[i].paths);
	}
	free(atts);
	free(health);
}
