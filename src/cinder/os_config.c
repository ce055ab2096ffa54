/* The merged OpenStack settings: see os_config.h. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clouds_yaml.h"
#include "lib/error.h"
#include "lib/log.h"
#include "microversion.h"
#include "os_config.h"

struct opt_def {
	const char *name;	/* --os-<name>, OS_<NAME> */
	size_t offset;
	const char *env_alias;	/* legacy variable, or NULL */
	const char *yaml;	/* path in clouds.<cloud>, or NULL */
	const char *yaml_alias;
	bool secret;
};

#define OPT(field, env_alias, yaml, yaml_alias, secret) \
	{ #field, offsetof(struct cb_os_config, field), env_alias, yaml, yaml_alias, secret }

static const struct opt_def opts[] = {
	OPT(cloud, NULL, NULL, NULL, false),
	OPT(auth_type, NULL, "auth_type", NULL, false),
	OPT(auth_url, NULL, "auth.auth_url", NULL, false),
	OPT(username, NULL, "auth.username", NULL, false),
	OPT(user_id, NULL, "auth.user_id", NULL, false),
	OPT(password, NULL, "auth.password", NULL, true),
	OPT(user_domain_name, NULL, "auth.user_domain_name", NULL, false),
	OPT(user_domain_id, NULL, "auth.user_domain_id", NULL, false),
	OPT(project_name, "OS_TENANT_NAME", "auth.project_name", "auth.tenant_name", false),
	OPT(project_id, "OS_TENANT_ID", "auth.project_id", "auth.tenant_id", false),
	OPT(project_domain_name, NULL, "auth.project_domain_name", NULL, false),
	OPT(project_domain_id, NULL, "auth.project_domain_id", NULL, false),
	OPT(default_domain_name, NULL, "auth.default_domain_name", NULL, false),
	OPT(default_domain_id, NULL, "auth.default_domain_id", NULL, false),
	OPT(token, NULL, "auth.token", NULL, true),
	OPT(application_credential_id, NULL, "auth.application_credential_id", NULL, false),
	OPT(application_credential_name, NULL, "auth.application_credential_name", NULL, false),
	OPT(application_credential_secret, NULL, "auth.application_credential_secret", NULL, true),
	OPT(region_name, NULL, "region_name", NULL, false),
	OPT(interface, "OS_ENDPOINT_TYPE", "interface", "endpoint_type", false),
	OPT(endpoint, NULL, "block_storage_endpoint_override", NULL, false),
	OPT(volume_api_version, NULL, "block_storage_api_version", "volume_api_version", false),
	OPT(cacert, NULL, "cacert", NULL, false),
	OPT(cert, NULL, "cert", NULL, false),
	OPT(key, NULL, "key", NULL, false),
	/* clouds.yaml says "verify: false" instead: see fill_verify(). */
	OPT(insecure, NULL, NULL, NULL, false),
};

#define N_OPTS (sizeof opts / sizeof opts[0])

static char **field(struct cb_os_config *c, const struct opt_def *o)
{
	return (char **)((char *)c + o->offset);
}

static void drop(char **slot, bool secret)
{
	if (*slot && secret)
		explicit_bzero(*slot, strlen(*slot));
	free(*slot);
	*slot = NULL;
}

void cb_os_config_init(struct cb_os_config *c)
{
	memset(c, 0, sizeof *c);
}

void cb_os_config_free(struct cb_os_config *c)
{
	for (size_t i = 0; i < N_OPTS; i++)
		drop(field(c, &opts[i]), opts[i].secret);
	drop(&c->token_cache_dir, false);
}

int cb_os_config_copy(struct cb_os_config *dst, const struct cb_os_config *src)
{
	cb_os_config_init(dst);
	dst->debug = src->debug;
	if (src->token_cache_dir && !(dst->token_cache_dir = strdup(src->token_cache_dir))) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < N_OPTS; i++) {
		const char *v = *field((struct cb_os_config *)src, &opts[i]);

		if (v && !(*field(dst, &opts[i]) = strdup(v))) {
			cb_os_config_free(dst);
			cb_set_error(ENOMEM, "out of memory");
			return -1;
		}
	}
	return 0;
}

const char *cb_os_config_option(unsigned int i, bool *secret)
{
	if (i >= N_OPTS)
		return NULL;
	if (secret)
		*secret = opts[i].secret;
	return opts[i].name;
}

/* "auth_url", "auth-url", "os-auth-url" and "os_auth_url" all match. */
static const struct opt_def *find_opt(const char *name)
{
	if (strncasecmp(name, "os-", 3) == 0 || strncasecmp(name, "os_", 3) == 0)
		name += 3;
	for (size_t i = 0; i < N_OPTS; i++) {
		const char *a = opts[i].name, *b = name;

		while (*a && (*a == *b || (*a == '_' && *b == '-'))) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return &opts[i];
	}
	return NULL;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "1", "on" };
	static const char *const no[] = { "false", "no", "0", "off" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_opt(struct cb_os_config *c, const struct opt_def *o, const char *value)
{
	char *copy = NULL;
	bool b;

	if (value && o->offset == offsetof(struct cb_os_config, insecure)) {
		if (parse_bool(value, &b) < 0) {
			cb_set_error(EINVAL, "%s: \"%s\" is not a boolean", o->name, value);
			return -1;
		}
		value = b ? "true" : "false";
	}
	if (value && !(copy = strdup(value))) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	drop(field(c, o), o->secret);
	*field(c, o) = copy;
	return 0;
}

int cb_os_config_set(struct cb_os_config *c, const char *name, const char *value)
{
	const struct opt_def *o = find_opt(name);

	if (!o) {
		cb_set_error(ENOENT, "unknown OpenStack setting \"%s\"", name);
		return -1;
	}
	return set_opt(c, o, value);
}

bool cb_os_config_insecure(const struct cb_os_config *c)
{
	return c->insecure && strcmp(c->insecure, "true") == 0;
}

/* ---- environment ---- */

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void env_name(const struct opt_def *o, char *buf, size_t size)
{
	snprintf(buf, size, "OS_%s", o->name);
	for (char *p = buf + 3; *p; p++)
		*p = toupper((unsigned char)*p);
}

static int fill_from_env(struct cb_os_config *c, char *const *envp)
{
	char name[64];

	for (size_t i = 0; i < N_OPTS; i++) {
		const char *v;

		if (*field(c, &opts[i]))
			continue;
		env_name(&opts[i], name, sizeof name);
		v = env_get(envp, name);
		if ((!v || !*v) && opts[i].env_alias)
			v = env_get(envp, opts[i].env_alias);
		/* An empty variable is how people unset one in a shell rc. */
		if (v && *v && set_opt(c, &opts[i], v) < 0)
			return -1;
	}
	return 0;
}

/* ---- clouds.yaml ---- */

/* "auth.auth_url" -> cloud["auth"]["auth_url"]. */
static const json_t *yaml_get(const json_t *cloud, const char *path)
{
	const char *dot;
	char section[32];

	if (!path)
		return NULL;
	dot = strchr(path, '.');
	if (!dot)
		return json_object_get(cloud, path);
	snprintf(section, sizeof section, "%.*s", (int)(dot - path), path);
	return json_object_get(json_object_get(cloud, section), dot + 1);
}

static int fill_one(struct cb_os_config *c, const struct opt_def *o,
		    const json_t *cloud, const char *source)
{
	const json_t *v = yaml_get(cloud, o->yaml);

	if (!v || json_is_null(v))
		v = yaml_get(cloud, o->yaml_alias);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v))
		return set_opt(c, o, json_is_true(v) ? "true" : "false");
	if (!json_is_string(v)) {
		cb_set_error(EINVAL, "%s: %s must be a string", source, o->yaml);
		return -1;
	}
	return set_opt(c, o, json_string_value(v));
}

/* verify: false means insecure; a string spelling a boolean counts too. */
static int fill_verify(struct cb_os_config *c, const json_t *cloud, const char *source)
{
	const json_t *v = json_object_get(cloud, "verify");
	bool verify;

	if (c->insecure || !v || json_is_null(v))
		return 0;
	if (json_is_boolean(v))
		verify = json_is_true(v);
	else if (!json_is_string(v) || parse_bool(json_string_value(v), &verify) < 0) {
		cb_set_error(EINVAL, "%s: verify must be true or false (use cacert "
			     "for a CA bundle)", source);
		return -1;
	}
	return cb_os_config_set(c, "insecure", verify ? "false" : "true");
}

static int fill_from_cloud(struct cb_os_config *c, const json_t *cloud,
			   const char *source)
{
	if (json_object_get(cloud, "profile"))
		cb_log(CB_LOG_WARNING, "%s: cloud \"%s\" uses a vendor profile, which "
		       "is not supported: its settings are ignored", source, c->cloud);
	for (size_t i = 0; i < N_OPTS; i++)
		if (!*field(c, &opts[i]) && fill_one(c, &opts[i], cloud, source) < 0)
			return -1;
	return fill_verify(c, cloud, source);
}

static int fill_from_clouds_yaml(struct cb_os_config *c, char *const *envp)
{
	char cwd[PATH_MAX];
	struct cb_clouds_env env = {
		.config_file = env_get(envp, "OS_CLIENT_CONFIG_FILE"),
		.secure_file = env_get(envp, "OS_CLIENT_SECURE_FILE"),
		.cwd = getcwd(cwd, sizeof cwd),
		.home = env_get(envp, "HOME"),
		.xdg_config_home = env_get(envp, "XDG_CONFIG_HOME"),
	};
	char *source;
	json_t *cloud = cb_clouds_load(c->cloud, &env, &source);
	int ret;

	if (!cloud)
		return -1;
	ret = fill_from_cloud(c, cloud, source ? source : "secure.yaml");
	free(source);
	json_decref(cloud);
	return ret;
}

/* ---- defaults and checks ---- */

static int normalize_interface(struct cb_os_config *c)
{
	static const char *const names[] = { "public", "internal", "admin" };
	const char *v = c->interface ? c->interface : "public";

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);

		/* "publicURL" is the keystone v2 spelling, still in old rc files. */
		if (strncmp(v, names[i], n) == 0 && (!v[n] || strcmp(v + n, "URL") == 0))
			return cb_os_config_set(c, "interface", names[i]);
	}
	cb_set_error(EINVAL, "interface \"%s\" is not public, internal or admin", v);
	return -1;
}

static const char *implied_auth_type(const struct cb_os_config *c)
{
	if (c->application_credential_id || c->application_credential_name ||
	    c->application_credential_secret)
		return "v3applicationcredential";
	if (c->token && !c->password)
		return "token";
	return "password";
}

/* keystoneauth's plugin names, and cinderclient's "noauth". */
static int normalize_auth_type(struct cb_os_config *c)
{
	static const struct { const char *alias, *name; } types[] = {
		{ "password", "password" }, { "v3password", "password" },
		{ "token", "token" }, { "v3token", "token" },
		{ "v3applicationcredential", "v3applicationcredential" },
		{ "applicationcredential", "v3applicationcredential" },
		{ "noauth", "noauth" }, { "none", "noauth" },
	};
	const char *v = c->auth_type ? c->auth_type : implied_auth_type(c);

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(v, types[i].alias) == 0)
			return cb_os_config_set(c, "auth_type", types[i].name);
	cb_set_error(ENOTSUP, "auth type \"%s\" is not supported (password, token, "
		     "v3applicationcredential, noauth)", v);
	return -1;
}

/* Like openstackclient: names need a domain, and "default" is the one
 * Keystone creates. */
static int default_domains(struct cb_os_config *c)
{
	const char *key = c->default_domain_id || !c->default_domain_name ?
			  "domain_id" : "domain_name";
	const char *dom = c->default_domain_id ? c->default_domain_id :
			  c->default_domain_name ? c->default_domain_name : "default";
	char name[32];

	if (c->username && !c->user_domain_id && !c->user_domain_name) {
		snprintf(name, sizeof name, "user_%s", key);
		if (cb_os_config_set(c, name, dom) < 0)
			return -1;
	}
	if (c->project_name && !c->project_domain_id && !c->project_domain_name) {
		snprintf(name, sizeof name, "project_%s", key);
		if (cb_os_config_set(c, name, dom) < 0)
			return -1;
	}
	return 0;
}

/* "3" and "3.latest" mean negotiate; anything else must be 3.Y. */
static int check_api_version(struct cb_os_config *c)
{
	struct cb_microversion mv;

	if (!c->volume_api_version)
		return 0;
	if (strcmp(c->volume_api_version, "3") == 0 ||
	    strcmp(c->volume_api_version, "3.latest") == 0)
		return cb_os_config_set(c, "volume_api_version", NULL);
	if (cb_microversion_parse(c->volume_api_version, &mv) < 0)
		return -1;
	if (mv.major != 3) {
		cb_set_error(ENOTSUP, "volume API version %s: only 3.x is supported",
			     c->volume_api_version);
		return -1;
	}
	return 0;
}

static void describe(const struct opt_def *o, char *buf, size_t size)
{
	char env[64];
	int n = snprintf(buf, size, "--os-");

	for (const char *p = o->name; *p && n + 1 < (int)size; p++)
		buf[n++] = *p == '_' ? '-' : *p;
	env_name(o, env, sizeof env);
	snprintf(buf + n, size - n, ", %s or clouds.yaml %s", env,
		 o->yaml ? o->yaml : "(none)");
}

/* Fails unless setting a or (if given) b is set, naming how to set them. */
static int need(const struct cb_os_config *c, const char *a, const char *b)
{
	const struct opt_def *oa = find_opt(a), *ob = b ? find_opt(b) : NULL;
	char da[160], db[160] = "";

	if (*field((struct cb_os_config *)c, oa) ||
	    (ob && *field((struct cb_os_config *)c, ob)))
		return 0;
	describe(oa, da, sizeof da);
	if (ob)
		describe(ob, db, sizeof db);
	cb_set_error(EINVAL, "auth type %s needs %s%s%s (%s%s%s)", c->auth_type, a,
		     b ? " or " : "", b ? b : "", da, b ? "; " : "", db);
	return -1;
}

static int check_auth(const struct cb_os_config *c)
{
	const char *t = c->auth_type;

	if (strcmp(t, "noauth") == 0) {
		if (need(c, "endpoint", NULL) < 0)
			return -1;
		return need(c, "project_id", NULL);
	}
	if (need(c, "auth_url", NULL) < 0)
		return -1;
	if (strcmp(t, "v3applicationcredential") == 0) {
		if (need(c, "application_credential_secret", NULL) < 0 ||
		    need(c, "application_credential_id", "application_credential_name") < 0)
			return -1;
		return c->application_credential_id ? 0 : need(c, "username", "user_id");
	}
	if (strcmp(t, "token") == 0 ? need(c, "token", NULL) < 0 :
	    need(c, "username", "user_id") < 0 || need(c, "password", NULL) < 0)
		return -1;
	/* An unscoped token has no catalog: Cinder needs a project. */
	return need(c, "project_id", "project_name");
}

int cb_os_config_resolve(struct cb_os_config *c, char *const *envp)
{
	if (fill_from_env(c, envp) < 0)
		return -1;
	if (c->cloud && fill_from_clouds_yaml(c, envp) < 0)
		return -1;
	if (normalize_interface(c) < 0 || normalize_auth_type(c) < 0 ||
	    default_domains(c) < 0 || check_api_version(c) < 0)
		return -1;
	return check_auth(c);
}
