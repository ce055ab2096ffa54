/* The kernel NBD client's generic netlink family "nbd": connect, reconfigure,
 * disconnect and status of /dev/nbdN.  Each call opens its own netlink
 * socket, so that concurrent callers (threads, processes) never share one. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kernel_nbd_internal.h"
#include "lib/error.h"

struct nl_call {
	struct nl_sock *sock;
	int family;
	int kernel_errno;	/* from the kernel's NLMSG_ERROR */
	int index;		/* NBD_ATTR_INDEX of the answer, or -1 */
	int connected;		/* NBD_DEVICE_CONNECTED of index, or -1 */
};

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nl_call *c = arg;

	c->kernel_errno = -e->error;
	return NL_STOP;
}

static void read_device_list(struct nl_call *c, struct nlattr *list)
{
	struct nlattr *dev[NBD_DEVICE_ATTR_MAX + 1];
	struct nlattr *item;
	int rem;

	nla_for_each_nested(item, list, rem) {
		if (nla_parse_nested(dev, NBD_DEVICE_ATTR_MAX, item, NULL) < 0 ||
		    !dev[NBD_DEVICE_INDEX] || !dev[NBD_DEVICE_CONNECTED])
			continue;
		if ((int)nla_get_u32(dev[NBD_DEVICE_INDEX]) == c->index)
			c->connected = nla_get_u8(dev[NBD_DEVICE_CONNECTED]);
	}
}

static int on_answer(struct nl_msg *msg, void *arg)
{
	struct nlattr *attrs[NBD_ATTR_MAX + 1];
	struct nl_call *c = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, NBD_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	if (attrs[NBD_ATTR_DEVICE_LIST])
		read_device_list(c, attrs[NBD_ATTR_DEVICE_LIST]);
	else if (attrs[NBD_ATTR_INDEX])
		c->index = (int)nla_get_u32(attrs[NBD_ATTR_INDEX]);
	return NL_OK;
}

static int call_open(struct nl_call *c)
{
	memset(c, 0, sizeof *c);
	c->index = -1;
	c->connected = -1;
	c->sock = nl_socket_alloc();
	if (!c->sock) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	if (genl_connect(c->sock) < 0) {
		cb_set_error(ENOTSUP, "no generic netlink socket: the kernel has no netlink");
		goto fail;
	}
	c->family = genl_ctrl_resolve(c->sock, NBD_GENL_FAMILY_NAME);
	if (c->family < 0) {
		cb_set_error(ENOTSUP, "the kernel has no \"nbd\" netlink family "
			     "(no nbd module, or one older than Linux 4.12)");
		goto fail;
	}
	nl_socket_modify_cb(c->sock, NL_CB_VALID, NL_CB_CUSTOM, on_answer, c);
	nl_socket_modify_err_cb(c->sock, NL_CB_CUSTOM, on_error, c);
	return 0;
fail:
	nl_socket_free(c->sock);
	return -1;
}

/* Opens a call and starts its message: NULL with the error set. */
static struct nl_msg *call_start(struct nl_call *c, int cmd, int index)
{
	struct nl_msg *msg;

	if (call_open(c) == -1)
		return NULL;
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, 0, cmd, 0) ||
	    (index >= 0 && nla_put_u32(msg, NBD_ATTR_INDEX, (uint32_t)index) < 0)) {
		nlmsg_free(msg);
		nl_socket_free(c->sock);
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	return msg;
}

/* Sends msg (freed), waits for the kernel's answer, closes the call. */
static int call_send(struct nl_call *c, struct nl_msg *msg, const char *what, int index)
{
	int r = nl_send_sync(c->sock, msg);

	nl_socket_free(c->sock);
	if (r >= 0)
		return 0;
	if (c->kernel_errno)
		cb_set_error_errno(c->kernel_errno, "netlink %s of /dev/nbd%d", what, index);
	else
		cb_set_error(EIO, "netlink %s of /dev/nbd%d: %s", what, index, nl_geterror(r));
	return -1;
}

static int put_sockets(struct nl_msg *msg, const int *socks, int n)
{
	struct nlattr *list = nla_nest_start(msg, NBD_ATTR_SOCKETS);
	int i;

	if (!list)
		return -1;
	for (i = 0; i < n; i++) {
		struct nlattr *item = nla_nest_start(msg, NBD_SOCK_ITEM);

		if (!item || nla_put_u32(msg, NBD_SOCK_FD, (uint32_t)socks[i]) < 0)
			return -1;
		nla_nest_end(msg, item);
	}
	nla_nest_end(msg, list);
	return 0;
}

/* What both CONNECT and RECONFIGURE carry: a device keeps what it was
 * last told, so every value is sent, never left to the kernel. */
static int put_config(struct nl_msg *msg, const struct kernel_nbd_params *p)
{
	if (nla_put_u64(msg, NBD_ATTR_TIMEOUT, p->io_timeout) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_DEAD_CONN_TIMEOUT, p->dead_conn_timeout) < 0)
		return -1;
	if (p->identifier && nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, p->identifier) < 0)
		return -1;
	return put_sockets(msg, p->socks, p->nsocks);
}

static int too_big(struct nl_call *c, struct nl_msg *msg)
{
	nlmsg_free(msg);
	nl_socket_free(c->sock);
	cb_set_error(ENOMEM, "netlink message for the nbd family too large");
	return -1;
}

bool nbd_netlink_available(void)
{
	struct nl_call c;

	if (call_open(&c) == -1)
		return false;
	nl_socket_free(c.sock);
	return true;
}

int nbd_netlink_connect(const struct kernel_nbd_params *p, int *index)
{
	struct nl_call c;
	struct nl_msg *msg = call_start(&c, NBD_CMD_CONNECT, p->index);

	if (!msg)
		return -1;
	if (nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, p->size) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_BLOCK_SIZE_BYTES, p->block_size) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_SERVER_FLAGS, p->flags) < 0 || put_config(msg, p) < 0)
		return too_big(&c, msg);
	if (call_send(&c, msg, "connect", p->index) == -1)
		return -1;
	if (c.index < 0) {
		cb_set_error(EPROTO, "the kernel connected an nbd device but did not say which");
		return -1;
	}
	*index = c.index;
	return 0;
}

int nbd_netlink_reconfigure(int index, const struct kernel_nbd_params *p)
{
	struct nl_call c;
	struct nl_msg *msg = call_start(&c, NBD_CMD_RECONFIGURE, index);

	if (!msg)
		return -1;
	if (put_config(msg, p) < 0)
		return too_big(&c, msg);
	return call_send(&c, msg, "reconfigure", index);
}

int nbd_netlink_resize(int index, uint64_t size, const char *identifier)
{
	struct nl_call c;
	struct nl_msg *msg = call_start(&c, NBD_CMD_RECONFIGURE, index);

	if (!msg)
		return -1;
	if (nla_put_u64(msg, NBD_ATTR_SIZE_BYTES, size) < 0 ||
	    (identifier[0] && nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, identifier) < 0))
		return too_big(&c, msg);
	return call_send(&c, msg, "resize", index);
}

int nbd_netlink_disconnect(int index)
{
	struct nl_call c;
	struct nl_msg *msg = call_start(&c, NBD_CMD_DISCONNECT, index);

	return msg ? call_send(&c, msg, "disconnect", index) : -1;
}

int nbd_netlink_status(int index, bool *connected)
{
	struct nl_call c;
	struct nl_msg *msg = call_start(&c, NBD_CMD_STATUS, index);

	if (!msg)
		return -1;
	c.index = index;
	if (call_send(&c, msg, "status", index) == -1)
		return -1;
	*connected = c.connected == 1;
	return 0;
}
