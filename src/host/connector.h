/* The connector: how this host describes itself to Cinder.
 *
 * The same fields as os-brick's get_connector_properties(), so a Cinder
 * driver sees an ordinary host: platform, os_type, ip, host, multipath,
 * enforce_multipath, initiator (iSCSI drivers require it), do_local_attach,
 * and when this host has them uuid (root filesystem) and nqn (NVMe-oF).
 */
#ifndef CB_HOST_CONNECTOR_H
#define CB_HOST_CONNECTOR_H

#include <stdbool.h>

#include <jansson.h>

struct cb_connector_opts {
	bool multipath;
	bool enforce_multipath;
	const char *nic;	/* take "ip" from this interface; NULL: the default route's */
};

/* A new object, or NULL with the error set (lib/error.h).  May create
 * the generated initiator name (initiator.h) on first use. */
json_t *cb_connector_get(const struct cb_connector_opts *opts);

#endif
