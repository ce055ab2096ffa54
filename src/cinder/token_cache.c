/* Keystone tokens kept in files: see token_cache.h. */
#include <config.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answer.h"
#include "lib/error.h"
#include "lib/log.h"
#include "token_cache.h"

#define FORMAT_VERSION 1
/* A catalog of a large cloud is some hundred KiB. */
#define FILE_MAX (4u << 20)
/* yescrypt at libxcrypt's default cost, as for /etc/shadow. */
#define VERIFIER_PREFIX "$y$"

/* ---- the identity and its name ---- */

/* The fields that select the token Keystone issues, resolved as the
 * request sends them.  Region and interface do not: they choose an
 * endpoint in the catalog, which is cached whole. */
static json_t *identity(const struct cb_os_config *c)
{
	char *url = cb_keystone_tokens_url(c->auth_url);
	json_t *id = json_pack("{s:i, s:s, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*,"
			       " s:s*, s:s*, s:s*}", "version", FORMAT_VERSION,
			       "auth_type", c->auth_type, "auth_url", url,
			       "username", c->username, "user_id", c->user_id,
			       "user_domain_name", c->user_domain_name,
			       "user_domain_id", c->user_domain_id,
			       "project_name", c->project_name, "project_id", c->project_id,
			       "project_domain_name", c->project_domain_name,
			       "project_domain_id", c->project_domain_id,
			       "application_credential_id", c->application_credential_id,
			       "application_credential_name", c->application_credential_name);

	free(url);
	return id;
}

/* FNV-1a: the name only has to spread identities over file names; a
 * collision is caught by comparing the identity stored in the file. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

int cb_token_cache_name(const struct cb_os_config *cfg, char name[CB_TOKEN_CACHE_NAME_SIZE])
{
	json_t *id = identity(cfg);
	char *text = id ? json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(id);
	if (!text) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	snprintf(name, CB_TOKEN_CACHE_NAME_SIZE, "%016llx.json",
		 (unsigned long long)fnv1a(text));
	free(text);
	return 0;
}

/* The secret the token is made from, or NULL for auth types whose
 * tokens are not cached. */
static const char *secret_of(const struct cb_os_config *cfg)
{
	if (!cfg->auth_type)
		return NULL;
	if (strcmp(cfg->auth_type, "password") == 0)
		return cfg->password;
	if (strcmp(cfg->auth_type, "v3applicationcredential") == 0)
		return cfg->application_credential_secret;
	return NULL;
}

bool cb_token_cache_applies(const struct cb_os_config *cfg)
{
	return cfg->token_cache_dir && cfg->auth_url && secret_of(cfg);
}

/* ---- expiry ---- */

static int parse_offset(const char *p, long *offset)
{
	int hh, mm, n = 0;

	if (strcmp(p, "Z") == 0) {
		*offset = 0;
		return 0;
	}
	if ((*p != '+' && *p != '-') ||
	    sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 || p[6])
		return -1;
	*offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	return 0;
}

int cb_token_expiry_parse(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	long offset;
	int n = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (parse_offset(s, &offset) < 0 || tm.tm_mon < 1 || tm.tm_mon > 12)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - offset;
	return 0;
}

bool cb_token_fresh(const char *expires_at, time_t now)
{
	time_t expiry;

	return cb_token_expiry_parse(expires_at, &expiry) == 0 &&
	       expiry - now > CB_TOKEN_CACHE_MARGIN_S;
}

/* ---- the secret's verifier ---- */

static char *make_verifier(const char *secret)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof *cd);
	char *v = NULL, *out;

	if (cd && crypt_gensalt_rn(VERIFIER_PREFIX, 0, NULL, 0, salt, sizeof salt) &&
	    (out = crypt_r(secret, salt, cd)) && out[0] != '*')
		v = strdup(out);
	if (cd)
		explicit_bzero(cd, sizeof *cd);
	free(cd);
	return v;
}

static bool verifier_matches(const char *verifier, const char *secret)
{
	struct crypt_data *cd = calloc(1, sizeof *cd);
	const char *out = cd ? crypt_r(secret, verifier, cd) : NULL;
	bool same = out && out[0] != '*' && strcmp(out, verifier) == 0;

	if (cd)
		explicit_bzero(cd, sizeof *cd);
	free(cd);
	return same;
}

/* ---- the directory and files ---- */

/* Only we may reach what is in it. */
static bool private_to_us(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & 077);
}

/* Creates the missing directories of path, 0700 each. */
static void make_dirs(const char *path)
{
	char *p = strdup(path), *slash;

	if (!p)
		return;
	for (slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(p, 0700);
		*slash = '/';
	}
	mkdir(p, 0700);
	free(p);
}

/* The cache directory, opened without following a symlink and checked,
 * or -1 (logged). */
static int open_dir(const char *dir, bool create)
{
	struct stat st;
	int fd;

	if (create)
		make_dirs(dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		cb_log(err == ENOENT ? CB_LOG_DEBUG : CB_LOG_WARNING, "token cache %s: %s%s",
		       dir, strerror(err),
		       err == ELOOP || err == ENOTDIR ? " (a symlink?): not used" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (!private_to_us(&st)) {
		cb_log(CB_LOG_WARNING, "token cache %s: owned by uid %u with mode %04o, but it "
		       "must be ours (uid %u) and closed to others (chmod 700): not used",
		       dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		       (unsigned)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

/* The entry's text, or NULL (logged). */
static char *read_entry(int dfd, const char *dir, const char *name, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *text = NULL;

	if (fd < 0) {
		int err = errno;

		cb_log(err == ENOENT ? CB_LOG_DEBUG : CB_LOG_WARNING, "token cache %s/%s: %s%s",
		       dir, name, strerror(err), err == ELOOP ? " (a symlink): not used" : "");
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !private_to_us(&st) ||
	    st.st_size > FILE_MAX) {
		cb_log(CB_LOG_WARNING, "token cache %s/%s: not a regular file of ours closed "
		       "to others, or too large: not used", dir, name);
	} else if ((text = malloc((size_t)st.st_size + 1))) {
		ssize_t n = read(fd, text, (size_t)st.st_size);

		*len = n > 0 ? (size_t)n : 0;
		text[*len] = '\0';
	}
	close(fd);
	return text;
}

static void wipe_free(char *s, size_t len)
{
	if (s)
		explicit_bzero(s, len);
	free(s);
}

/* ---- load ---- */

/* Why doc is no use for cfg, or NULL when t got its token. */
static const char *take_entry(const json_t *doc, const struct cb_os_config *cfg,
			      struct cb_keystone_token *t)
{
	json_t *id = identity(cfg), *catalog = json_object_get(doc, "catalog");
	const char *token = json_string_value(json_object_get(doc, "token"));
	const char *project = json_string_value(json_object_get(doc, "project_id"));
	const char *expires = json_string_value(json_object_get(doc, "expires_at"));
	const char *verifier = json_string_value(json_object_get(doc, "verifier"));
	bool same = id && json_equal(id, json_object_get(doc, "identity"));

	json_decref(id);
	if (!same)
		return "made for another identity";
	if (!token || !*token || !project || !cb_is_id(project) || !json_is_array(catalog))
		return "malformed";
	if (!cb_token_fresh(expires, time(NULL)))
		return "expired or expiring within the margin";
	if (!verifier || !verifier_matches(verifier, secret_of(cfg)))
		return "made with another secret";
	t->id = strdup(token);
	t->project_id = strdup(project);
	t->expires_at = strdup(expires);
	t->catalog = json_incref(catalog);
	if (!t->id || !t->project_id || !t->expires_at) {
		cb_keystone_token_free(t);
		return "out of memory";
	}
	return NULL;
}

int cb_token_cache_load(const struct cb_os_config *cfg, struct cb_keystone_token *t)
{
	char name[CB_TOKEN_CACHE_NAME_SIZE], *text;
	const char *why;
	json_t *doc = NULL;
	size_t len = 0;
	int dfd;

	memset(t, 0, sizeof *t);
	if (!cb_token_cache_applies(cfg) || cb_token_cache_name(cfg, name) < 0)
		return -1;
	dfd = open_dir(cfg->token_cache_dir, false);
	if (dfd < 0)
		return -1;
	text = read_entry(dfd, cfg->token_cache_dir, name, &len);
	close(dfd);
	if (!text)
		return -1;
	doc = json_loadb(text, len, 0, NULL);
	why = doc ? take_entry(doc, cfg, t) : "not JSON";
	json_decref(doc);
	wipe_free(text, len);
	if (why) {
		cb_log(CB_LOG_DEBUG, "token cache %s/%s: %s: not used", cfg->token_cache_dir,
		       name, why);
		return -1;
	}
	cb_log(CB_LOG_DEBUG, "token cache: reusing the token in %s/%s (expires at %s)",
	       cfg->token_cache_dir, name, t->expires_at);
	return 0;
}

/* ---- store and drop ---- */

static char *entry_text(const struct cb_os_config *cfg, const struct cb_keystone_token *t)
{
	char *verifier = make_verifier(secret_of(cfg)), *text = NULL;
	json_t *doc = NULL;

	if (verifier)
		doc = json_pack("{s:o, s:s, s:s, s:s, s:O, s:s}", "identity", identity(cfg),
				"token", t->id, "project_id", t->project_id,
				"expires_at", t->expires_at, "catalog", t->catalog,
				"verifier", verifier);
	if (doc)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	free(verifier);
	return text;
}

/* Written whole under a name of its own, then renamed over the entry,
 * so that a reader sees the old entry or the new one.  Not fsynced: a
 * file torn by a crash is only a miss. */
static int write_entry(int dfd, const char *name, const char *text)
{
	static _Atomic unsigned int seq;
	char tmp[CB_TOKEN_CACHE_NAME_SIZE + 48];
	size_t len = strlen(text), off = 0;
	ssize_t n = 0;
	int fd, err;

	snprintf(tmp, sizeof tmp, ".%s.%ld.%u.tmp", name, (long)getpid(), seq++);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) == 0)
		while (off < len && (n = write(fd, text + off, len - off)) > 0)
			off += (size_t)n;
	if (n < 0 || off < len)
		err = n < 0 ? errno : EIO;
	else
		err = 0;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && renameat(dfd, tmp, dfd, name) == 0)
		return 0;
	err = err ? err : errno;
	unlinkat(dfd, tmp, 0);
	errno = err;
	return -1;
}

void cb_token_cache_store(const struct cb_os_config *cfg, const struct cb_keystone_token *t)
{
	char name[CB_TOKEN_CACHE_NAME_SIZE], *text;
	int dfd;

	if (!cb_token_cache_applies(cfg) || !t->expires_at ||
	    !cb_token_fresh(t->expires_at, time(NULL)) || cb_token_cache_name(cfg, name) < 0)
		return;
	dfd = open_dir(cfg->token_cache_dir, true);
	if (dfd < 0)
		return;
	text = entry_text(cfg, t);
	if (!text)
		cb_log(CB_LOG_WARNING, "token cache: cannot make an entry (out of memory)");
	else if (write_entry(dfd, name, text) < 0)
		cb_log(CB_LOG_WARNING, "token cache %s/%s: %s", cfg->token_cache_dir, name,
		       strerror(errno));
	else
		cb_log(CB_LOG_DEBUG, "token cache: stored the token in %s/%s (expires at %s)",
		       cfg->token_cache_dir, name, t->expires_at);
	wipe_free(text, text ? strlen(text) : 0);
	close(dfd);
}

void cb_token_cache_drop(const struct cb_os_config *cfg)
{
	char name[CB_TOKEN_CACHE_NAME_SIZE];
	int dfd;

	if (!cb_token_cache_applies(cfg) || cb_token_cache_name(cfg, name) < 0)
		return;
	dfd = open_dir(cfg->token_cache_dir, false);
	if (dfd < 0)
		return;
	if (unlinkat(dfd, name, 0) == 0)
		cb_log(CB_LOG_DEBUG, "token cache: dropped %s/%s", cfg->token_cache_dir, name);
	close(dfd);
}
