/* Keystone tokens kept in files between handles, so that a command run
 * again within a token's life (an hour by default) does not wait for a
 * new token and for Cinder's first validation of it.
 *
 * Only tokens the client makes from a secret are cached: auth types
 * password and v3applicationcredential, with cfg->token_cache_dir set.
 * A token the caller gave (auth type token) is the caller's to keep, and
 * noauth has none.
 *
 * One file per identity: the name is a hash of the fields that select
 * which token Keystone issues (auth URL, auth type, user and project by
 * name, ID and domain, application credential), never of a secret; the
 * file holds those fields again (a hash collision is a miss, never
 * another identity's token), the token, its project, expiry and catalog,
 * and a verifier of the secret (crypt(3) with a random salt, as
 * /etc/shadow holds passwords), so that a wrong or changed password is
 * still refused by Keystone rather than answered from the cache.  The
 * file never holds the secret itself.
 *
 * Files are 0600 in a 0700 directory (created if missing), written to a
 * temporary name and renamed, never through a symlink.  A directory or
 * file that another user owns or can read, or a symlink, is not used
 * (a warning says why).  Any other failure only costs a new token: the
 * cache never fails a command.
 */
#ifndef CB_CINDER_TOKEN_CACHE_H
#define CB_CINDER_TOKEN_CACHE_H

#include <stdbool.h>
#include <time.h>

#include "keystone.h"
#include "os_config.h"

/* A token is reused until this long before it expires.  A command makes
 * several calls after loading it, some of which wait on Cinder's RPC to
 * the volume driver (the client allows 120 s a request): a token that
 * expires in the middle costs a 401 and a new token at that point,
 * perhaps during a rollback.  And Keystone's clock may run ahead of ours.
 * Five minutes cover both and leave 55 of a default hour's token to
 * reuse. */
#define CB_TOKEN_CACHE_MARGIN_S 300

/* "<16 hex digits>.json" */
#define CB_TOKEN_CACHE_NAME_SIZE 24

bool cb_token_cache_applies(const struct cb_os_config *cfg);

/* cfg's cached token, when there is one that is fresh (see the margin)
 * and was made with the same secret: 0 and t filled, else -1 (t empty,
 * no error set; the reason is logged). */
int cb_token_cache_load(const struct cb_os_config *cfg, struct cb_keystone_token *t);

/* Writes t for cfg, replacing what was there.  Nothing is written when
 * the cache does not apply or t has no expiry; failures are logged. */
void cb_token_cache_store(const struct cb_os_config *cfg, const struct cb_keystone_token *t);

/* Removes cfg's entry: its token was refused. */
void cb_token_cache_drop(const struct cb_os_config *cfg);

/* ---- pure parts, exposed for tests ---- */

/* The file name of cfg's entry.  -1 on ENOMEM. */
int cb_token_cache_name(const struct cb_os_config *cfg, char name[CB_TOKEN_CACHE_NAME_SIZE]);

/* Keystone's "2024-05-01T12:34:56.000000Z" (fraction optional, "Z" or
 * "+HH:MM"/"-HH:MM") as seconds since the epoch.  -1 on anything else. */
int cb_token_expiry_parse(const char *expires_at, time_t *out);

/* Whether a token expiring at expires_at is still worth using at now. */
bool cb_token_fresh(const char *expires_at, time_t now);

#endif
