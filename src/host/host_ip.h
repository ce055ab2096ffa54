/* The address this host gives Cinder as the connector's "ip". */
#ifndef CB_HOST_HOST_IP_H
#define CB_HOST_HOST_IP_H

#include <stddef.h>

/* The IPv4 address of nic, or with nic NULL of the interface of the
 * default route (/proc/net/route), or 127.0.0.1 when there is none.
 * Never sends a packet to find out.  -1 with the error set when nic is
 * given but has no IPv4 address. */
int cb_host_ip(const char *nic, char *buf, size_t len);

#endif
