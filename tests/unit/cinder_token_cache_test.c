/* Unit tests of the token cache (src/cinder/token_cache.c): names from
 * the identity only, expiry and its margin, and the files in a private
 * temporary directory: modes, refusals of what others could reach or
 * swap, a secret that must match, nothing cached for auth type token. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cinder/token_cache.h"
#include "lib/error.h"
#include "lib/log.h"

struct fixture {
	char top[64];
	char dir[256];		/* the cache: top/a/b, not there yet */
	char file[512];		/* cfg's entry in it */
	struct cb_os_config cfg;
	struct cb_keystone_token token;
};

static char warnings[4096];

static void capture(enum cb_log_level level, const char *msg, void *opaque)
{
	if (level == CB_LOG_WARNING)
		strncat(warnings, msg, sizeof warnings - strlen(warnings) - 1);
}

static void set(struct cb_os_config *c, const char *name, const char *value)
{
	assert_int_equal(cb_os_config_set(c, name, value), 0);
}

/* `seconds` from now, as Keystone writes an expiry. */
static char *expiry_in(long seconds)
{
	time_t t = time(NULL) + seconds;
	char buf[64];

	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000Z", gmtime(&t));
	return strdup(buf);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char name[CB_TOKEN_CACHE_NAME_SIZE];

	strcpy(f->top, "/tmp/cb-token-cache-test-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->dir, sizeof f->dir, "%s/a/b", f->top);
	cb_os_config_init(&f->cfg);
	set(&f->cfg, "auth_type", "password");
	set(&f->cfg, "auth_url", "http://127.0.0.1:5000/v3");
	set(&f->cfg, "username", "demo");
	set(&f->cfg, "password", "s3cret-pw");
	set(&f->cfg, "user_domain_name", "Default");
	set(&f->cfg, "project_name", "demo");
	set(&f->cfg, "project_domain_name", "Default");
	f->cfg.token_cache_dir = strdup(f->dir);
	assert_int_equal(cb_token_cache_name(&f->cfg, name), 0);
	snprintf(f->file, sizeof f->file, "%s/%s", f->dir, name);
	f->token.id = strdup("gAAAAAB-the-token");
	f->token.project_id = strdup("bfd6fe3284d24d7990d9d02e7cc0880c");
	f->token.expires_at = expiry_in(3600);
	f->token.catalog = json_pack("[{s:s}]", "type", "block-storage");
	warnings[0] = '\0';
	cb_set_log_fn(capture, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	cb_set_log_fn(NULL, NULL);
	cb_os_config_free(&f->cfg);
	cb_keystone_token_free(&f->token);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void assert_mode(const char *path, mode_t mode)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static bool loads(struct fixture *f)
{
	struct cb_keystone_token t;
	bool hit = cb_token_cache_load(&f->cfg, &t) == 0;

	if (hit) {
		assert_string_equal(t.id, f->token.id);
		assert_string_equal(t.project_id, f->token.project_id);
		assert_string_equal(t.expires_at, f->token.expires_at);
		assert_true(json_equal(t.catalog, f->token.catalog));
	}
	cb_keystone_token_free(&t);
	return hit;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = calloc(1, 65536);

	assert_non_null(fp);
	assert_true(fread(text, 1, 65535, fp) > 0);
	fclose(fp);
	return text;
}

/* ---- pure parts ---- */

static void name_of(const struct cb_os_config *c, char *name)
{
	assert_int_equal(cb_token_cache_name(c, name), 0);
}

static void test_names(void **state)
{
	struct fixture *f = *state;
	static const char *const selecting[][2] = {
		{ "username", "admin" }, { "user_id", "u1" }, { "user_domain_name", "Other" },
		{ "project_name", "admin" }, { "project_id", "p1" },
		{ "project_domain_id", "d1" }, { "auth_url", "http://127.0.0.1:5001/v3" },
		{ "auth_type", "v3applicationcredential" },
		{ "application_credential_id", "ac1" },
	};
	static const char *const not_selecting[][2] = {
		{ "password", "other" }, { "region_name", "R2" }, { "interface", "admin" },
		{ "auth_url", "http://127.0.0.1:5000/" }, { "cacert", "/x.pem" },
	};
	char base[CB_TOKEN_CACHE_NAME_SIZE], name[CB_TOKEN_CACHE_NAME_SIZE];
	struct cb_os_config c;

	name_of(&f->cfg, base);
	assert_int_equal(strlen(base), 21);
	assert_int_equal(strspn(base, "0123456789abcdef"), 16);
	assert_string_equal(base + 16, ".json");
	for (size_t i = 0; i < sizeof selecting / sizeof selecting[0]; i++) {
		assert_int_equal(cb_os_config_copy(&c, &f->cfg), 0);
		set(&c, selecting[i][0], selecting[i][1]);
		name_of(&c, name);
		if (strcmp(name, base) == 0)
			fail_msg("%s does not change the name", selecting[i][0]);
		cb_os_config_free(&c);
	}
	for (size_t i = 0; i < sizeof not_selecting / sizeof not_selecting[0]; i++) {
		assert_int_equal(cb_os_config_copy(&c, &f->cfg), 0);
		set(&c, not_selecting[i][0], not_selecting[i][1]);
		name_of(&c, name);
		if (strcmp(name, base) != 0)
			fail_msg("%s changes the name", not_selecting[i][0]);
		cb_os_config_free(&c);
	}
}

static void test_expiry_parse(void **state)
{
	static const struct { const char *s; time_t t; } good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-05-01T12:34:56.000000Z", 1714566896 },
		{ "2024-05-01T12:34:56Z", 1714566896 },
		{ "2024-05-01T14:34:56.5+02:00", 1714566896 },
		{ "2024-05-01T07:04:56-05:30", 1714566896 },
	};
	static const char *const bad[] = {
		"", "2024-05-01T12:34:56", "2024-05-01 12:34:56Z", "2024-13-01T12:34:56Z",
		"2024-05-01T12:34:56.Zx", "2024-05-01T12:34:56+0200", "soon",
		"2024-05-01T12:34:56Z ",
	};
	time_t t;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(cb_token_expiry_parse(good[i].s, &t), 0);
		assert_int_equal(t, good[i].t);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cb_token_expiry_parse(bad[i], &t) == 0)
			fail_msg("\"%s\" was parsed", bad[i]);
	assert_int_equal(cb_token_expiry_parse(NULL, &t), -1);
}

static void test_fresh(void **state)
{
	time_t now = 1714566896 - CB_TOKEN_CACHE_MARGIN_S;

	assert_false(cb_token_fresh("2024-05-01T12:34:56Z", now));
	assert_true(cb_token_fresh("2024-05-01T12:34:56Z", now - 1));
	assert_false(cb_token_fresh("2024-05-01T12:34:56Z", now + 3600));
	assert_false(cb_token_fresh(NULL, now));
	assert_false(cb_token_fresh("tomorrow", now));
}

static void test_applies(void **state)
{
	struct fixture *f = *state;

	assert_true(cb_token_cache_applies(&f->cfg));
	set(&f->cfg, "auth_type", "v3applicationcredential");
	assert_false(cb_token_cache_applies(&f->cfg));	/* no secret for it */
	set(&f->cfg, "application_credential_secret", "x");
	assert_true(cb_token_cache_applies(&f->cfg));
	set(&f->cfg, "auth_type", "token");
	set(&f->cfg, "token", "t");
	assert_false(cb_token_cache_applies(&f->cfg));
	set(&f->cfg, "auth_type", "noauth");
	assert_false(cb_token_cache_applies(&f->cfg));
	set(&f->cfg, "auth_type", "password");
	free(f->cfg.token_cache_dir);
	f->cfg.token_cache_dir = NULL;
	assert_false(cb_token_cache_applies(&f->cfg));
}

/* ---- files ---- */

static void test_store_and_load(void **state)
{
	struct fixture *f = *state;
	char parent[PATH_MAX], *text;
	struct cb_os_config copy;

	assert_false(loads(f));		/* no directory yet: a miss, quietly */
	assert_string_equal(warnings, "");
	cb_token_cache_store(&f->cfg, &f->token);
	snprintf(parent, sizeof parent, "%s/a", f->top);
	assert_mode(parent, 0700);
	assert_mode(f->dir, 0700);
	assert_mode(f->file, 0600);
	assert_true(loads(f));
	text = slurp(f->file);
	assert_null(strstr(text, "s3cret-pw"));	/* never the password */
	assert_non_null(strstr(text, "\"verifier\":\"$y$"));
	free(text);
	/* A handle works on a copy of the config: it names the cache too. */
	assert_int_equal(cb_os_config_copy(&copy, &f->cfg), 0);
	assert_string_equal(copy.token_cache_dir, f->dir);
	cb_os_config_free(&copy);
	cb_token_cache_drop(&f->cfg);
	assert_int_equal(access(f->file, F_OK), -1);
	assert_false(loads(f));
	assert_string_equal(warnings, "");
}

static void test_other_secret_misses(void **state)
{
	struct fixture *f = *state;

	cb_token_cache_store(&f->cfg, &f->token);
	set(&f->cfg, "password", "wrong-password");
	assert_false(loads(f));
	set(&f->cfg, "password", "s3cret-pw");
	assert_true(loads(f));
}

static void test_expiring_tokens(void **state)
{
	struct fixture *f = *state;

	/* Within the margin: not worth writing. */
	free(f->token.expires_at);
	f->token.expires_at = expiry_in(CB_TOKEN_CACHE_MARGIN_S - 10);
	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(access(f->file, F_OK), -1);
	/* Written while fresh, then the clock passes the margin: see
	 * test-cinder-token-cache.sh, which edits an entry's expiry. */
	free(f->token.expires_at);
	f->token.expires_at = NULL;
	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(access(f->file, F_OK), -1);
}

static void test_nothing_for_token_auth(void **state)
{
	struct fixture *f = *state;

	set(&f->cfg, "auth_type", "token");
	set(&f->cfg, "token", "given-token");
	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(access(f->dir, F_OK), -1);
	set(&f->cfg, "auth_type", "noauth");
	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(access(f->dir, F_OK), -1);
}

static void test_refuses_open_file(void **state)
{
	struct fixture *f = *state;

	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(chmod(f->file, 0640), 0);
	assert_false(loads(f));
	assert_non_null(strstr(warnings, "closed to others"));
	/* Replaced by a good one on the next store. */
	cb_token_cache_store(&f->cfg, &f->token);
	assert_mode(f->file, 0600);
	assert_true(loads(f));
}

static void test_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char real[PATH_MAX];

	cb_token_cache_store(&f->cfg, &f->token);
	snprintf(real, sizeof real, "%s/real.json", f->top);
	assert_int_equal(rename(f->file, real), 0);
	assert_int_equal(symlink(real, f->file), 0);
	assert_false(loads(f));
	assert_non_null(strstr(warnings, "symlink"));
	/* A store replaces the link itself, never writes through it. */
	cb_token_cache_store(&f->cfg, &f->token);
	assert_mode(f->file, 0600);
	assert_true(loads(f));
}

static void test_refuses_open_dir(void **state)
{
	struct fixture *f = *state;
	char link[PATH_MAX];

	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_false(loads(f));
	assert_non_null(strstr(warnings, "chmod 700"));
	assert_int_equal(unlink(f->file), 0);
	cb_token_cache_store(&f->cfg, &f->token);	/* nor written there */
	assert_int_equal(access(f->file, F_OK), -1);
	/* A directory reached through a symlink is not used either. */
	assert_int_equal(chmod(f->dir, 0700), 0);
	snprintf(link, sizeof link, "%s/link", f->top);
	assert_int_equal(symlink(f->dir, link), 0);
	free(f->cfg.token_cache_dir);
	f->cfg.token_cache_dir = strdup(link);
	warnings[0] = '\0';
	cb_token_cache_store(&f->cfg, &f->token);
	assert_int_equal(access(f->file, F_OK), -1);
	assert_non_null(strstr(warnings, "symlink"));
}

/* Another identity's entry under this one's name (a hash collision, or
 * a file copied there) is not used. */
static void test_identity_checked(void **state)
{
	struct fixture *f = *state;
	char other_file[512], name[CB_TOKEN_CACHE_NAME_SIZE];

	set(&f->cfg, "username", "other");
	cb_token_cache_store(&f->cfg, &f->token);
	name_of(&f->cfg, name);
	snprintf(other_file, sizeof other_file, "%s/%s", f->dir, name);
	set(&f->cfg, "username", "demo");
	assert_int_equal(rename(other_file, f->file), 0);
	assert_false(loads(f));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_names),
		cmocka_unit_test(test_expiry_parse),
		cmocka_unit_test(test_fresh),
		T(test_applies),
		T(test_store_and_load),
		T(test_other_secret_misses),
		T(test_expiring_tokens),
		T(test_nothing_for_token_auth),
		T(test_refuses_open_file),
		T(test_refuses_symlink),
		T(test_refuses_open_dir),
		T(test_identity_checked),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
