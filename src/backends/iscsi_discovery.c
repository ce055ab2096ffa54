/* SendTargets discovery (RFC 7143, 12.3), which os-brick runs as
 * "iscsiadm -m discovery -t sendtargets" when multipath is asked for and
 * the connection_info names one portal of the target: a discovery session
 * on that portal lists the target's portals, and each becomes a path.
 * Synchronous: it runs at open, before the volume's event loop.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <iscsi/iscsi.h>

#include "iscsi_internal.h"
#include "lib/error.h"

/* What a refused discovery login means, for the user. */
static const char *login_hint(const struct iscsi_target *t, const char *err)
{
	if (strstr(err, "Authentication failure"))
		return t->discovery_chap ? ": the portal refused the discovery CHAP user and "
					   "password (discovery_auth_username / "
					   "discovery_auth_password)"
					 : ": the portal wants discovery CHAP credentials, and "
					   "the connection_info has none";
	if (strstr(err, "refused"))
		return ": nothing listens there";
	return "";
}

static void add_listed(struct iscsi_target *t, const struct iscsi_discovery_address *da)
{
	for (; da; da = da->next)
		for (const struct iscsi_target_portal *p = da->portals; p; p = p->next)
			if (da->target_name && p->portal)
				iscsi_target_add_discovered(t, da->target_name, p->portal);
}

int iscsi_discover(struct iscsi_target *t, const char *initiator)
{
	const char *portal = t->paths[0].portal;
	struct iscsi_context *ctx =
		iscsi_new_context(initiator, NULL, t->discovery_chap ? &t->discovery : NULL);
	struct iscsi_discovery_address *da;
	bool listed;

	if (!ctx) {
		cb_set_error(ENOMEM, "cannot make an iSCSI context");
		return -1;
	}
	if (iscsi_connect_sync(ctx, portal) || iscsi_login_sync(ctx)) {
		cb_set_error(EIO, "SendTargets discovery at %s: cannot log in: %s%s", portal,
			     iscsi_get_error(ctx), login_hint(t, iscsi_get_error(ctx)));
		iscsi_destroy_context(ctx);
		return -1;
	}
	da = iscsi_discovery_sync(ctx);
	listed = da != NULL;
	if (listed) {
		add_listed(t, da);
		iscsi_free_discovery_data(ctx, da);
	} else {
		cb_set_error(EIO, "SendTargets discovery at %s: no targets listed: %s", portal,
			     iscsi_get_error(ctx));
	}
	iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return listed ? 0 : -1;
}
