/* What an iscsi connection_info says of where a volume is and how to log
 * in: the paths (portal, target IQN, LUN) and the CHAP credentials.
 *
 * Cinder's iSCSI drivers send one path in target_portal / target_iqn /
 * target_lun and, when the target has several portals, every path in the
 * lists target_portals / target_iqns / target_luns (os-brick uses those
 * only when the connector asked for multipath; so do we; without the lists,
 * multipath discovers the portals, iscsi_discovery.c).  Network input:
 * nothing here trusts its shape.  Pure logic, unit-tested.
 */
#ifndef CB_BACKENDS_ISCSI_TARGET_H
#define CB_BACKENDS_ISCSI_TARGET_H

#include <stdbool.h>

#include <jansson.h>

#define ISCSI_MAX_PATHS 8

struct iscsi_path_address {
	char portal[272];	/* host:port, [v6addr]:port */
	char iqn[224];		/* RFC 3720: at most 223 bytes */
	int lun;
};

struct iscsi_chap {
	char user[256];
	char password[256];	/* never printed; wiped by iscsi_target_wipe */
};

struct iscsi_target {
	struct iscsi_path_address paths[ISCSI_MAX_PATHS];
	unsigned n_paths;
	bool chap;			/* auth_method CHAP: session credentials */
	struct iscsi_chap session;
	/* With multipath, a connection_info that names one portal and no
	 * lists: the target's other portals are found by SendTargets
	 * discovery, as os-brick does, with discovery_auth_* if CHAP. */
	bool discover;
	bool discovery_chap;
	struct iscsi_chap discovery;
	bool read_only;			/* access_mode "ro" */
	bool discard;			/* "discard": the volume takes UNMAP */
};

/* data is connection_info["data"].  With multipath, every path of the
 * lists (or the one path when there are no lists); without, the single
 * path.  0, or -1 with EINVAL and a message naming the field (never a
 * secret's value). */
int iscsi_target_parse(const json_t *data, bool multipath, struct iscsi_target *t);

/* A portal discovery listed for iqn, as a SendTargets TargetAddress
 * ("host:port,tpgt"): a path of the same LUN as the first, unless iqn is
 * another target's, the portal is already a path, or there are
 * ISCSI_MAX_PATHS. */
void iscsi_target_add_discovered(struct iscsi_target *t, const char *iqn,
				 const char *address);

/* Zeroes the passwords, for when t is about to be freed. */
void iscsi_target_wipe(struct iscsi_target *t);

#endif
