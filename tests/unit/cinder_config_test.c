/* Unit tests of the OpenStack settings: the clouds.yaml and secure.yaml
 * search, and the precedence flags > OS_* > clouds.yaml.
 * Each test works in a fresh temporary HOME and current directory. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
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

#include "cinder/clouds_yaml.h"
#include "cinder/os_config.h"
#include "lib/error.h"
#include "lib/log.h"

struct fixture {
	char top[64];		/* mkdtemp */
	char home[PATH_MAX];
	char cwd[PATH_MAX];
	char home_env[PATH_MAX + 8];
	char old_cwd[PATH_MAX];
	struct cb_os_config cfg;
};

static char warnings[4096];

static void capture(enum cb_log_level level, const char *msg, void *opaque)
{
	if (level == CB_LOG_WARNING)
		strncat(warnings, msg, sizeof warnings - strlen(warnings) - 1);
}

static void write_file(const struct fixture *f, const char *rel, const char *text,
		       mode_t mode)
{
	char path[PATH_MAX], *slash;
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", f->top, rel);
	/* mkdir -p of the parent */
	for (slash = strchr(path + strlen(f->top) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	strcpy(f->top, "/tmp/cb-config-test-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->home, sizeof f->home, "%s/home", f->top);
	snprintf(f->cwd, sizeof f->cwd, "%s/cwd", f->top);
	snprintf(f->home_env, sizeof f->home_env, "HOME=%s", f->home);
	mkdir(f->home, 0700);
	mkdir(f->cwd, 0700);
	assert_non_null(getcwd(f->old_cwd, sizeof f->old_cwd));
	assert_int_equal(chdir(f->cwd), 0);
	cb_os_config_init(&f->cfg);
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
	assert_int_equal(chdir(f->old_cwd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char base_cloud[] =
	"clouds:\n"
	"  lab:\n"
	"    auth:\n"
	"      auth_url: http://127.0.0.1:5000/v3\n"
	"      username: yaml-user\n"
	"      password: yaml-pass\n"
	"      project_name: demo\n"
	"      user_domain_name: Default\n"
	"      project_domain_name: Default\n"
	"    region_name: RegionOne\n"
	"    interface: internal\n";

/* ---- search order ---- */

static void test_candidates_order(void **state)
{
	struct cb_clouds_env env = {
		.config_file = "/x/my.yaml", .cwd = "/c", .home = "/h",
		.xdg_config_home = "/xdg",
	};
	static const char *const expected[] = {
		"/x/my.yaml",
		"/c/clouds.yaml", "/c/clouds.yml", "/c/clouds.json",
		"/xdg/openstack/clouds.yaml", "/xdg/openstack/clouds.yml",
		"/xdg/openstack/clouds.json",
		"/h/.config/openstack/clouds.yaml", "/h/.config/openstack/clouds.yml",
		"/h/.config/openstack/clouds.json",
		"/etc/xdg/openstack/clouds.yaml", "/etc/xdg/openstack/clouds.yml",
		"/etc/xdg/openstack/clouds.json",
		"/etc/openstack/clouds.yaml", "/etc/openstack/clouds.yml",
		"/etc/openstack/clouds.json",
		NULL,
	};
	char **paths = cb_clouds_candidates("clouds", env.config_file, &env);

	for (size_t i = 0; expected[i] || paths[i]; i++) {
		assert_non_null(paths[i]);
		assert_non_null(expected[i]);
		assert_string_equal(paths[i], expected[i]);
	}
	cb_clouds_candidates_free(paths);
	env = (struct cb_clouds_env){ .home = "/h" };
	paths = cb_clouds_candidates("secure", NULL, &env);
	assert_string_equal(paths[0], "/h/.config/openstack/secure.yaml");
	cb_clouds_candidates_free(paths);
}

static const char *resolve_url(struct fixture *f, char **envp)
{
	cb_os_config_free(&f->cfg);
	cb_os_config_init(&f->cfg);
	cb_os_config_set(&f->cfg, "cloud", "lab");
	if (cb_os_config_resolve(&f->cfg, envp) < 0)
		fail_msg("resolve: %s", cb_get_error());
	return f->cfg.auth_url;
}

static void write_cloud(struct fixture *f, const char *rel, const char *url)
{
	char text[512];

	snprintf(text, sizeof text, "clouds:\n  lab:\n    auth:\n      auth_url: %s\n"
		 "      username: u\n      password: p\n      project_id: p1\n", url);
	write_file(f, rel, text, 0600);
}

static void test_search_order(void **state)
{
	struct fixture *f = *state;
	char explicit_env[PATH_MAX + 32], xdg_env[PATH_MAX + 32];
	char *envp[4] = { f->home_env, NULL };

	write_cloud(f, "home/.config/openstack/clouds.yaml", "http://home");
	assert_string_equal(resolve_url(f, envp), "http://home");
	write_cloud(f, "cwd/clouds.yml", "http://cwd");
	assert_string_equal(resolve_url(f, envp), "http://cwd");
	/* OS_CLIENT_CONFIG_FILE comes first of all. */
	write_cloud(f, "elsewhere/mine.yaml", "http://explicit");
	snprintf(explicit_env, sizeof explicit_env,
		 "OS_CLIENT_CONFIG_FILE=%s/elsewhere/mine.yaml", f->top);
	envp[1] = explicit_env;
	assert_string_equal(resolve_url(f, envp), "http://explicit");
	/* A missing OS_CLIENT_CONFIG_FILE is skipped, like openstacksdk. */
	snprintf(explicit_env, sizeof explicit_env,
		 "OS_CLIENT_CONFIG_FILE=%s/missing.yaml", f->top);
	assert_string_equal(resolve_url(f, envp), "http://cwd");
	/* XDG_CONFIG_HOME comes before ~/.config. */
	envp[1] = NULL;
	assert_int_equal(unlink("clouds.yml"), 0);
	write_cloud(f, "xdg/openstack/clouds.yaml", "http://xdg");
	snprintf(xdg_env, sizeof xdg_env, "XDG_CONFIG_HOME=%s/xdg", f->top);
	envp[1] = xdg_env;
	assert_string_equal(resolve_url(f, envp), "http://xdg");
}

static void test_secure_yaml_overrides(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, NULL };

	write_file(f, "cwd/clouds.yaml",
		   "clouds:\n  lab:\n    auth:\n      auth_url: http://k\n"
		   "      username: demo\n      project_name: demo\n"
		   "    region_name: R1\n", 0644);
	write_file(f, "home/.config/openstack/secure.yaml",
		   "clouds:\n  lab:\n    auth:\n      password: from-secure\n"
		   "    region_name: R2\n", 0600);
	cb_os_config_set(&f->cfg, "cloud", "lab");
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_string_equal(f->cfg.password, "from-secure");
	assert_string_equal(f->cfg.region_name, "R2");
	/* Deep merge: clouds.yaml's other auth keys survive. */
	assert_string_equal(f->cfg.auth_url, "http://k");
	assert_string_equal(f->cfg.username, "demo");
	/* The secret is in a 0600 file; clouds.yaml is open but has none. */
	assert_string_equal(warnings, "");
}

static void test_secret_in_open_file_warns(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, NULL };

	write_file(f, "cwd/clouds.yaml", base_cloud, 0644);
	cb_os_config_set(&f->cfg, "cloud", "lab");
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_non_null(strstr(warnings, "chmod 600"));
	/* Never the secret itself. */
	assert_null(strstr(warnings, "yaml-pass"));
}

static void test_cloud_not_found(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, "OS_CLOUD=nosuch", NULL };

	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), -1);
	assert_int_equal(cb_get_errno(), ENOENT);
	assert_non_null(strstr(cb_get_error(), "\"nosuch\""));
	write_file(f, "cwd/clouds.yaml", base_cloud, 0600);
	cb_os_config_free(&f->cfg);
	cb_os_config_init(&f->cfg);
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), -1);
	assert_non_null(strstr(cb_get_error(), "is not defined in"));
	assert_non_null(strstr(cb_get_error(), "clouds.yaml"));
}

static void test_broken_clouds_yaml_is_an_error(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, "OS_CLOUD=lab", NULL };

	write_file(f, "cwd/clouds.yaml", "clouds:\n  lab: [\n", 0600);
	write_cloud(f, "home/.config/openstack/clouds.yaml", "http://home");
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), -1);
	assert_non_null(strstr(cb_get_error(), "clouds.yaml: line"));
}

/* ---- precedence ---- */

static void test_precedence(void **state)
{
	struct fixture *f = *state;
	char *envp[] = {
		f->home_env, "OS_CLOUD=lab", "OS_REGION_NAME=env-region",
		"OS_USERNAME=env-user", "OS_PASSWORD=env-pass", "OS_PROJECT_ID=",
		NULL,
	};

	write_file(f, "cwd/clouds.yaml", base_cloud, 0600);
	cb_os_config_set(&f->cfg, "os-username", "flag-user");
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_string_equal(f->cfg.username, "flag-user");	/* flag */
	assert_string_equal(f->cfg.password, "env-pass");	/* env over yaml */
	assert_string_equal(f->cfg.region_name, "env-region");
	assert_string_equal(f->cfg.auth_url, "http://127.0.0.1:5000/v3"); /* yaml */
	assert_string_equal(f->cfg.interface, "internal");
	/* An empty variable counts as unset. */
	assert_null(f->cfg.project_id);
	assert_string_equal(f->cfg.project_name, "demo");
}

static void test_flag_cloud_beats_os_cloud(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, "OS_CLOUD=nosuch", NULL };

	write_file(f, "cwd/clouds.yaml", base_cloud, 0600);
	cb_os_config_set(&f->cfg, "cloud", "lab");
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_string_equal(f->cfg.username, "yaml-user");
}

static void test_env_only_and_aliases(void **state)
{
	struct fixture *f = *state;
	char *envp[] = {
		"OS_AUTH_URL=http://k:5000", "OS_USERNAME=demo", "OS_PASSWORD=pw",
		"OS_TENANT_NAME=legacy", "OS_ENDPOINT_TYPE=internalURL",
		"OS_INSECURE=1", NULL,
	};

	write_file(f, "cwd/clouds.yaml", base_cloud, 0600);	/* no cloud named: unused */
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_string_equal(f->cfg.project_name, "legacy");
	assert_string_equal(f->cfg.interface, "internal");
	assert_true(cb_os_config_insecure(&f->cfg));
	assert_string_equal(f->cfg.auth_type, "password");
	assert_null(f->cfg.region_name);
	/* openstackclient's default domain for names. */
	assert_string_equal(f->cfg.user_domain_id, "default");
	assert_string_equal(f->cfg.project_domain_id, "default");
}

static void test_verify_false(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, "OS_CLOUD=lab", NULL };
	char *envp_secure[] = { f->home_env, "OS_CLOUD=lab", "OS_INSECURE=false", NULL };
	char text[1024];

	snprintf(text, sizeof text, "%s    verify: false\n    cacert: /ca.pem\n", base_cloud);
	write_file(f, "cwd/clouds.yaml", text, 0600);
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_true(cb_os_config_insecure(&f->cfg));
	assert_string_equal(f->cfg.cacert, "/ca.pem");
	cb_os_config_free(&f->cfg);
	cb_os_config_init(&f->cfg);
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp_secure), 0);
	assert_false(cb_os_config_insecure(&f->cfg));
	cb_os_config_free(&f->cfg);
	cb_os_config_init(&f->cfg);
	snprintf(text, sizeof text, "%s    verify: /etc/ca.pem\n", base_cloud);
	write_file(f, "cwd/clouds.yaml", text, 0600);
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), -1);
	assert_non_null(strstr(cb_get_error(), "verify must be true or false"));
}

static void test_block_storage_settings(void **state)
{
	struct fixture *f = *state;
	char *envp[] = { f->home_env, "OS_CLOUD=lab", NULL };
	char text[1024];

	snprintf(text, sizeof text, "%s    block_storage_api_version: 3.44\n"
		 "    block_storage_endpoint_override: http://c:8776/v3\n", base_cloud);
	write_file(f, "cwd/clouds.yaml", text, 0600);
	assert_int_equal(cb_os_config_resolve(&f->cfg, envp), 0);
	assert_string_equal(f->cfg.volume_api_version, "3.44");
	assert_string_equal(f->cfg.endpoint, "http://c:8776/v3");
}

/* ---- defaults and checks ---- */

static int resolve_with(struct fixture *f, char **envp)
{
	cb_os_config_free(&f->cfg);
	cb_os_config_init(&f->cfg);
	return cb_os_config_resolve(&f->cfg, envp);
}

static void test_auth_type_inference(void **state)
{
	struct fixture *f = *state;
	char *token[] = { "OS_AUTH_URL=http://k", "OS_TOKEN=t", "OS_PROJECT_ID=p", NULL };
	char *appcred[] = {
		"OS_AUTH_URL=http://k", "OS_APPLICATION_CREDENTIAL_ID=ac",
		"OS_APPLICATION_CREDENTIAL_SECRET=s", NULL,
	};
	char *appcred_name[] = {
		"OS_AUTH_URL=http://k", "OS_APPLICATION_CREDENTIAL_NAME=ac",
		"OS_APPLICATION_CREDENTIAL_SECRET=s", NULL,
	};
	char *alias[] = {
		"OS_AUTH_TYPE=v3password", "OS_AUTH_URL=http://k", "OS_USER_ID=u",
		"OS_PASSWORD=p", "OS_PROJECT_NAME=x", "OS_DEFAULT_DOMAIN_NAME=Corp", NULL,
	};

	assert_int_equal(resolve_with(f, token), 0);
	assert_string_equal(f->cfg.auth_type, "token");
	assert_int_equal(resolve_with(f, appcred), 0);
	assert_string_equal(f->cfg.auth_type, "v3applicationcredential");
	/* By name, the credential's user must be named too. */
	assert_int_equal(resolve_with(f, appcred_name), -1);
	assert_non_null(strstr(cb_get_error(), "username or user_id"));
	assert_int_equal(resolve_with(f, alias), 0);
	assert_string_equal(f->cfg.auth_type, "password");
	/* A user ID needs no domain; a project name takes the default one. */
	assert_null(f->cfg.user_domain_id);
	assert_null(f->cfg.user_domain_name);
	assert_string_equal(f->cfg.project_domain_name, "Corp");
}

static void test_missing_settings(void **state)
{
	struct fixture *f = *state;
	char *no_url[] = { "OS_USERNAME=u", "OS_PASSWORD=p", "OS_PROJECT_ID=x", NULL };
	char *no_project[] = { "OS_AUTH_URL=http://k", "OS_USERNAME=u", "OS_PASSWORD=p", NULL };
	char *noauth[] = { "OS_AUTH_TYPE=noauth", "OS_ENDPOINT=http://c:8776/v3", NULL };
	char *noauth_ok[] = {
		"OS_AUTH_TYPE=noauth", "OS_ENDPOINT=http://c:8776/v3", "OS_PROJECT_ID=p", NULL,
	};
	char *bad_type[] = { "OS_AUTH_TYPE=v3oidcpassword", NULL };
	char *bad_if[] = { "OS_INTERFACE=private", NULL };
	char *bad_mv[] = { "OS_AUTH_TYPE=noauth", "OS_ENDPOINT=http://c", "OS_PROJECT_ID=p",
			   "OS_VOLUME_API_VERSION=2.0", NULL };
	char *latest[] = { "OS_AUTH_TYPE=noauth", "OS_ENDPOINT=http://c", "OS_PROJECT_ID=p",
			   "OS_VOLUME_API_VERSION=3.latest", NULL };

	assert_int_equal(resolve_with(f, no_url), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_non_null(strstr(cb_get_error(), "--os-auth-url, OS_AUTH_URL or clouds.yaml auth.auth_url"));
	assert_int_equal(resolve_with(f, no_project), -1);
	assert_non_null(strstr(cb_get_error(), "project_id or project_name"));
	assert_int_equal(resolve_with(f, noauth), -1);
	assert_non_null(strstr(cb_get_error(), "noauth needs project_id"));
	assert_int_equal(resolve_with(f, noauth_ok), 0);
	assert_int_equal(resolve_with(f, bad_type), -1);
	assert_int_equal(cb_get_errno(), ENOTSUP);
	assert_int_equal(resolve_with(f, bad_if), -1);
	assert_non_null(strstr(cb_get_error(), "interface \"private\""));
	assert_int_equal(resolve_with(f, bad_mv), -1);
	assert_int_equal(resolve_with(f, latest), 0);
	assert_null(f->cfg.volume_api_version);
}

/* ---- the setting API ---- */

static void test_set_and_options(void **state)
{
	struct fixture *f = *state;
	struct cb_os_config copy;
	unsigned int secrets = 0, i;
	const char *name;
	bool secret;

	assert_int_equal(cb_os_config_set(&f->cfg, "auth-url", "http://a"), 0);
	assert_int_equal(cb_os_config_set(&f->cfg, "os_auth_url", "http://b"), 0);
	assert_string_equal(f->cfg.auth_url, "http://b");
	assert_int_equal(cb_os_config_set(&f->cfg, "os-application-credential-secret", "s"), 0);
	assert_string_equal(f->cfg.application_credential_secret, "s");
	assert_int_equal(cb_os_config_set(&f->cfg, "auth_url", NULL), 0);
	assert_null(f->cfg.auth_url);
	assert_int_equal(cb_os_config_set(&f->cfg, "no-such", "x"), -1);
	assert_int_equal(cb_get_errno(), ENOENT);
	assert_int_equal(cb_os_config_set(&f->cfg, "insecure", "maybe"), -1);
	assert_int_equal(cb_get_errno(), EINVAL);
	assert_int_equal(cb_os_config_set(&f->cfg, "insecure", "YES"), 0);
	assert_string_equal(f->cfg.insecure, "true");
	for (i = 0; (name = cb_os_config_option(i, &secret)); i++) {
		assert_int_equal(cb_os_config_set(&f->cfg, name, NULL), 0);
		secrets += secret;
	}
	assert_true(i > 20);
	assert_int_equal(secrets, 3);	/* password, token, app credential secret */
	cb_os_config_set(&f->cfg, "password", "pw");
	f->cfg.debug = true;
	assert_int_equal(cb_os_config_copy(&copy, &f->cfg), 0);
	assert_string_equal(copy.password, "pw");
	assert_true(copy.password != f->cfg.password);
	assert_true(copy.debug);
	cb_os_config_free(&copy);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidates_order),
		T(test_search_order),
		T(test_secure_yaml_overrides),
		T(test_secret_in_open_file_warns),
		T(test_cloud_not_found),
		T(test_broken_clouds_yaml_is_an_error),
		T(test_precedence),
		T(test_flag_cloud_beats_os_cloud),
		T(test_env_only_and_aliases),
		T(test_verify_false),
		T(test_block_storage_settings),
		T(test_auth_type_inference),
		T(test_missing_settings),
		T(test_set_and_options),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
