/* Between kernel_nbd.c and its two ways of talking to the kernel. */
#ifndef CB_KERNEL_NBD_INTERNAL_H
#define CB_KERNEL_NBD_INTERNAL_H

#include <pthread.h>

#include "kernel_nbd.h"

struct kernel_nbd {
	int index;
	enum kernel_nbd_interface how;
	char device[32];
	/* The kernel refuses a reconfigure (a resize) without it. */
	char identifier[KERNEL_NBD_MAX_IDENTIFIER];
	/* ioctl only: /dev/nbdN, held by the thread in NBD_DO_IT, which
	 * returns when the device is disconnected or its server dies. */
	int fd;
	pthread_t do_it;
	bool do_it_running;
};

/* The generic netlink family "nbd" (nbd_netlink.c).  Each returns 0, or
 * -1 with the error set; ENOTSUP when the family is missing. */
bool nbd_netlink_available(void);
int nbd_netlink_connect(const struct kernel_nbd_params *p, int *index);
int nbd_netlink_reconfigure(int index, const struct kernel_nbd_params *p);
int nbd_netlink_resize(int index, uint64_t size, const char *identifier);
int nbd_netlink_disconnect(int index);
/* Whether the kernel has the device configured (sockets dead or alive). */
int nbd_netlink_status(int index, bool *connected);

/* The ioctls on /dev/nbdN (nbd_ioctl.c). */
int nbd_ioctl_connect(struct kernel_nbd *k, const struct kernel_nbd_params *p);
int nbd_ioctl_disconnect(struct kernel_nbd *k);

#endif
