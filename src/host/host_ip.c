/* Reading the routing table and the interface list, rather than opening
 * a UDP socket "towards" some address as os-brick's callers often do,
 * keeps the lookup free of traffic and of any assumption about the
 * network. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "host_ip.h"
#include "lib/error.h"

#define ROUTE_FILE "/proc/net/route"

/* The interface of the default route with the lowest metric, or "". */
static void default_route_nic(char nic[IF_NAMESIZE])
{
	FILE *f = fopen(ROUTE_FILE, "re");
	char line[256], name[IF_NAMESIZE];
	unsigned long dest, mask;
	int metric, best = INT_MAX;

	nic[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
		if (sscanf(line, "%15s %lx %*x %*x %*d %*d %d %lx", name, &dest, &metric,
			   &mask) != 4)
			continue;	/* the header line */
		if (dest == 0 && mask == 0 && metric < best) {
			best = metric;
			memcpy(nic, name, IF_NAMESIZE);
		}
	}
	fclose(f);
}

/* 0 if nic has an IPv4 address (written to buf), else -1. */
static int nic_address(const char *nic, char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	int ret = -1;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i && ret; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, nic) != 0)
			continue;
		if (inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			      buf, len))
			ret = 0;
	}
	freeifaddrs(ifa);
	return ret;
}

int cb_host_ip(const char *nic, char *buf, size_t len)
{
	char route_nic[IF_NAMESIZE];

	if (nic) {
		if (nic_address(nic, buf, len) == 0)
			return 0;
		cb_set_error(EADDRNOTAVAIL, "interface %s has no IPv4 address "
			     "(see 'ip -4 addr')", nic);
		return -1;
	}
	default_route_nic(route_nic);
	if (route_nic[0] && nic_address(route_nic, buf, len) == 0)
		return 0;
	snprintf(buf, len, "127.0.0.1");
	return 0;
}
