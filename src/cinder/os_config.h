/* The OpenStack client settings, merged from three sources.
 *
 * Precedence is python-openstackclient's: command-line flags over OS_*
 * environment variables over clouds.yaml (with secure.yaml).  The merge
 * is per setting, as in openstackclient: a flag --os-project-id does not
 * discard the clouds.yaml project_name, and the Keystone request then
 * prefers the ID.
 *
 * Every setting has one name, and the three spellings follow from it:
 * "auth_url" is --os-auth-url, OS_AUTH_URL and clouds.yaml auth.auth_url
 * (the table in os_config.c lists the legacy aliases such as OS_TENANT_NAME).
 *
 * Endpoint override and noauth: "endpoint" (--os-endpoint, OS_ENDPOINT,
 * clouds.yaml block_storage_endpoint_override) skips the catalog.  It is
 * the volume endpoint as a catalog would list it, e.g.
 * http://host:8776/v3/%(project_id)s or http://host:8776/v3; the project
 * ID is filled in or appended.  auth_type "noauth" (for Cinder's
 * auth_strategy = noauth) needs no Keystone but needs "endpoint" and
 * "project_id"; requests then carry X-Auth-Token "<user_id>:<project_id>"
 * as Cinder's noauth middleware expects (user_id defaults to the project).
 *
 * "volume_api_version" (--os-volume-api-version, OS_VOLUME_API_VERSION,
 * clouds.yaml block_storage_api_version) pins the microversion ("3.44");
 * "3" or "3.latest" mean "negotiate" like no setting.
 */
#ifndef CB_CINDER_OS_CONFIG_H
#define CB_CINDER_OS_CONFIG_H

#include <stdbool.h>

struct cb_os_config {
	char *cloud;
	char *auth_type;	/* password, token, v3applicationcredential, noauth */
	char *auth_url;
	char *username;
	char *user_id;
	char *password;				/* secret */
	char *user_domain_name;
	char *user_domain_id;
	char *project_name;
	char *project_id;
	char *project_domain_name;
	char *project_domain_id;
	char *default_domain_name;
	char *default_domain_id;
	char *token;				/* secret */
	char *application_credential_id;
	char *application_credential_name;
	char *application_credential_secret;	/* secret */
	char *region_name;
	char *interface;	/* public (default), internal, admin */
	char *endpoint;
	char *volume_api_version;
	char *cacert;
	char *cert;
	char *key;
	char *insecure;		/* "true" or "false" once set */
	/* Not settings of any source, but the caller's choices: */
	/* --debug: the client logs every HTTP exchange, secrets masked. */
	bool debug;
	/* A directory for Keystone tokens, reused by later handles until
	 * shortly before they expire (token_cache.h), or NULL for none.
	 * Created 0700 if missing; must not be reachable by other users. */
	char *token_cache_dir;
};

void cb_os_config_init(struct cb_os_config *c);
/* Frees every string; secrets are wiped first. */
void cb_os_config_free(struct cb_os_config *c);
int cb_os_config_copy(struct cb_os_config *dst, const struct cb_os_config *src);

/* Sets setting `name` ("auth_url" or "auth-url"; a leading "os-" is
 * allowed) to a copy of value, or unsets it for NULL.  Booleans
 * ("insecure") accept true/false/yes/no/1/0/on/off.  -1 with ENOENT for
 * an unknown name, EINVAL for a bad value. */
int cb_os_config_set(struct cb_os_config *c, const char *name, const char *value);

/* The setting names, for building command-line options: i-th name, or
 * NULL past the end.  *secret (optional) tells whether it is a secret. */
const char *cb_os_config_option(unsigned int i, bool *secret);

/* Given c holding the flags, fills what is unset from envp (OS_*), then,
 * when a cloud is named (flag or OS_CLOUD), from clouds.yaml, then the
 * defaults (public interface, domain "default" for names, the auth type
 * implied by the credentials given), and checks that the auth type has
 * what it needs.  HOME, XDG_CONFIG_HOME, OS_CLIENT_CONFIG_FILE and
 * OS_CLIENT_SECURE_FILE also come from envp.  -1 with the error set. */
int cb_os_config_resolve(struct cb_os_config *c, char *const *envp);

bool cb_os_config_insecure(const struct cb_os_config *c);

#endif
