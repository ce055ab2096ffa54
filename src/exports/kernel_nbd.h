/* The kernel's NBD client: a volume served from userspace as /dev/nbdN.
 *
 * The kernel does no handshake: it is handed connected sockets and told the
 * export's size, block size and flags out of band, over the generic netlink
 * family "nbd" or, where that family is missing, by the older ioctls on
 * /dev/nbdN.  The other end of each socket is served by the NBD server
 * (nbd_server_serve_fd); this module knows nothing of it.
 *
 * Only a netlink device outlives its server: when every socket dies the
 * kernel keeps it for the dead-connection timeout, and requests wait for a
 * new server to hand it sockets (kernel_nbd_reconfigure).  An ioctl device
 * is torn down when its server goes.
 */
#ifndef CB_KERNEL_NBD_H
#define CB_KERNEL_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest BACKEND_IDENTIFIER kept (sysfs shows it). */
#define KERNEL_NBD_MAX_IDENTIFIER 256
/* Sockets per device: more only adds threads past the CPUs there are. */
#define KERNEL_NBD_MAX_CONNECTIONS 16

enum kernel_nbd_interface {
	KERNEL_NBD_ANY,		/* netlink when the family resolves, else ioctl */
	KERNEL_NBD_NETLINK,
	KERNEL_NBD_IOCTL,
};

struct kernel_nbd_params {
	int index;			/* N of /dev/nbdN; -1: a free one */
	uint64_t size;			/* bytes */
	uint32_t block_size;		/* logical block size, 512 to 4096 */
	uint16_t flags;			/* transmission flags (NBD_FLAG_*) */
	/* Seconds.  Both are always sent: a device keeps the last value it
	 * was given and a new mapping would inherit it otherwise. */
	unsigned io_timeout;
	unsigned dead_conn_timeout;	/* netlink only */
	/* Shown in /sys/block/nbdN/backend, so that a reattach can tell the
	 * device is the one it is for; netlink only. */
	const char *identifier;
	const int *socks;		/* the kernel's ends; several need */
	int nsocks;			/* NBD_FLAG_CAN_MULTI_CONN */
};

struct kernel_nbd;

/* Connects a device; the kernel holds the sockets from then on, and the
 * caller may close its copies.  NULL with the error set (ENOTSUP when the
 * kernel has no nbd; EBUSY when p->index names a device in use). */
struct kernel_nbd *kernel_nbd_connect(const struct kernel_nbd_params *p,
				      enum kernel_nbd_interface how);
const char *kernel_nbd_device(const struct kernel_nbd *k);	/* /dev/nbdN */
int kernel_nbd_index(const struct kernel_nbd *k);		/* N */
enum kernel_nbd_interface kernel_nbd_interface(const struct kernel_nbd *k);
/* Writes the device's dirty pages to the server (with flush: never when
 * the server is dead, as the writes would wait for one), then disconnects
 * the device and waits until the kernel has let go of it.  -1 with EBUSY,
 * the device still connected, while it is mounted or held open
 * exclusively. */
int kernel_nbd_disconnect(struct kernel_nbd *k, bool flush);
/* Frees k; a device still connected stays connected (netlink) or is torn
 * down (ioctl). */
void kernel_nbd_free(struct kernel_nbd *k);
/* For a process that must end while the device still waits on its
 * server (stuck storage): fails every request the device holds (EIO) and
 * disconnects it, without kernel_nbd_disconnect's flush and wait, from
 * the device's number and interface alone, as another thread may be
 * freeing its struct kernel_nbd.  Shut the server's ends of the sockets
 * down first, so that the kernel never waits to send on one. */
void kernel_nbd_abort(int index, enum kernel_nbd_interface how);

/* A handle on a device connected by an earlier process, for a reattach:
 * nothing is checked here. */
struct kernel_nbd *kernel_nbd_adopt(int index);
/* Hands the device new sockets (and the timeouts in p) after its server
 * died: the kernel only takes a socket in place of a dead one.  Refused
 * (EINVAL) unless /sys/block/nbdN/backend is p->identifier, and (EBUSY)
 * while any of its sockets still lives. */
int kernel_nbd_reconfigure(struct kernel_nbd *k, const struct kernel_nbd_params *p);
/* Grows the device to size bytes (netlink only). */
int kernel_nbd_resize(struct kernel_nbd *k, uint64_t size);

/* Whether the kernel has an nbd client, after asking for the module once;
 * when not, why into why. */
bool kernel_nbd_available(char *why, size_t len);
/* /sys/block/nbdN/backend into buf: 0, or -1 (ENOENT: no such device). */
int kernel_nbd_identifier(int index, char *buf, size_t len);
/* The device's size in bytes as the kernel has it: 0 when not connected. */
uint64_t kernel_nbd_size(int index);

#endif
