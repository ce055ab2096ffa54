/* The nbd netlink interface of a build without libnl (configure
 * --without-netlink, or no libnl-genl-3-dev found): /dev/nbdN is set up by
 * ioctl, and a device whose server dies cannot be reattached or resized. */
#include <config.h>

#include <errno.h>

#include "kernel_nbd_internal.h"
#include "lib/error.h"

static int not_built(void)
{
	cb_set_error(ENOTSUP, "built without libnl (configure --without-netlink, or no "
		     "libnl-genl-3-dev): no nbd netlink interface");
	return -1;
}

bool nbd_netlink_available(void)
{
	return false;
}

int nbd_netlink_connect(const struct kernel_nbd_params *p, int *index)
{
	return not_built();
}

int nbd_netlink_reconfigure(int index, const struct kernel_nbd_params *p)
{
	return not_built();
}

int nbd_netlink_resize(int index, uint64_t size, const char *identifier)
{
	return not_built();
}

int nbd_netlink_disconnect(int index)
{
	return not_built();
}

int nbd_netlink_status(int index, bool *connected)
{
	return not_built();
}
