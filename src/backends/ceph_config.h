/* What a Ceph client is told by Cinder's connection_info and a keyring:
 * the image, the user, the monitors' addresses and the user's key.
 *
 * Parsing only, with no cluster in sight, so that it is unit-tested on
 * its own (tests/unit/ceph_config_test.c); rbd.c connects and does I/O.
 * Key material is copied only into the caller's buffer, and every buffer
 * here that held some is cleared before it is freed.
 */
#ifndef CB_BACKENDS_CEPH_CONFIG_H
#define CB_BACKENDS_CEPH_CONFIG_H

#include <stdbool.h>

#include <jansson.h>

/* Room for a key and its NUL: a cephx key is 40 base64 characters. */
#define CB_CEPH_KEY_MAX 128

/* Finds the key of entity ("client.cinder") in keyring text, Ceph's
 * INI-style format: "[entity]" then "key = BASE64" in that section.  On
 * success copies it into key and returns true. */
bool cb_ceph_keyring_lookup(const char *text, const char *entity, char key[CB_CEPH_KEY_MAX]);

/* The same from a keyring file: 0 with the key, else -1 with errno set
 * (ENOKEY for a file without entity's key).  Sets no error message: the
 * caller knows why it read that file. */
int cb_ceph_keyring_file_lookup(const char *path, const char *entity,
				char key[CB_CEPH_KEY_MAX]);

/* librados's mon_host ("h1:p1,[v6]:p2") from connection_info data's
 * parallel "hosts" and "ports" lists (ports as strings, as Cinder sends
 * them, or numbers; a host without a port gets librados's default).
 * Returns a string to free(), or NULL with the error set. */
char *cb_ceph_mon_host(const json_t *data);

/* What connection_info data says about where an image lives and as whom
 * to reach it. */
struct cb_ceph_target {
	const char *spec;	/* "name" as given, for messages */
	char *name;		/* owns pool, ns and image */
	const char *pool;
	const char *ns;		/* "" for the default namespace */
	const char *image;
	const char *cluster;	/* "ceph" unless cluster_name says */
	char entity[256];	/* client.<auth_username> */
	bool auth;		/* cephx, unless auth_enabled is false */
	bool read_only;		/* access_mode is "ro" */
	char *mon_host;		/* cb_ceph_mon_host */
};

/* Fills t from connection_info data, whose strings it borrows; 0, or -1
 * with the error set.  Either way t is then cb_ceph_target_free's, and
 * must have been zeroed before. */
int cb_ceph_target_parse(struct cb_ceph_target *t, const json_t *data);
void cb_ceph_target_free(struct cb_ceph_target *t);

#endif
