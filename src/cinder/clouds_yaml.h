/* clouds.yaml and secure.yaml, as openstacksdk finds and merges them.
 * The files are read with yaml_json.h, so the config code deals with
 * one kind of tree only.
 */
#ifndef CB_CINDER_CLOUDS_YAML_H
#define CB_CINDER_CLOUDS_YAML_H

#include <jansson.h>

/* Where to look.  Any member may be NULL. */
struct cb_clouds_env {
	const char *config_file;	/* OS_CLIENT_CONFIG_FILE */
	const char *secure_file;	/* OS_CLIENT_SECURE_FILE */
	const char *cwd;
	const char *home;		/* HOME */
	const char *xdg_config_home;	/* XDG_CONFIG_HOME */
};

/* Candidate paths for "clouds" or "secure", in search order:
 * the override file, then clouds.{yaml,yml,json} in the current
 * directory, $XDG_CONFIG_HOME/openstack, ~/.config/openstack,
 * /etc/xdg/openstack and /etc/openstack.  NULL-terminated; free with
 * cb_clouds_candidates_free(). */
char **cb_clouds_candidates(const char *basename, const char *override,
			    const struct cb_clouds_env *env);
void cb_clouds_candidates_free(char **paths);

/* The settings of cloud `name`: clouds.<name> from the first clouds file
 * found, with clouds.<name> of the first secure file found merged over
 * it.  *source gets the path of the clouds file (for messages; may be
 * NULL when only a secure file defines the cloud).  Returns a new
 * object, or NULL with the error set (ENOENT: no file or no such cloud). */
json_t *cb_clouds_load(const char *name, const struct cb_clouds_env *env,
		       char **source);

#endif
