// SPDX-License-Identifier: GPL-2.0
/*
 * netfeat: the offloads an interface uses, for a guest without ethtool.
 *
 *   netfeat IFACE
 *
 * Prints "sg S tso T" (1 on, 0 off): scatter-gather and TCP segmentation
 * offload, as ethtool -k shows them.
 */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int get(int fd, const char *ifname, unsigned int cmd, unsigned int *val)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		perror("netfeat: SIOCETHTOOL");
		return -1;
	}
	*val = ev.data;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int sg, tso;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: netfeat IFACE\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("netfeat: socket");
		return 1;
	}
	if (get(fd, argv[1], ETHTOOL_GSG, &sg) || get(fd, argv[1], ETHTOOL_GTSO, &tso))
		return 1;
	printf("sg %u tso %u\n", sg, tso);
	close(fd);
	return 0;
}
