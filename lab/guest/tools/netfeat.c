// SPDX-License-Identifier: GPL-2.0
/*
 * netfeat: whether an interface uses some offloads, for a guest without
 * ethtool.
 *
 *   netfeat IFACE FEATURE...
 *
 * FEATURE is a name as ethtool -k prints it (tx-scatter-gather,
 * tx-tcp-segmentation, tx-checksum-ipv6, ...).  Prints one number per
 * FEATURE, in order, on one line: 1 when the interface uses it (ethtool's
 * "on"), 0 when it does not.  Fails on a name the kernel does not know.
 */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static const char *ifname;

static int ethtool(void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		perror("netfeat: SIOCETHTOOL");
		return -1;
	}
	return 0;
}

/* The number of feature names the kernel has, or -1. */
static int feature_count(void)
{
	struct {
		struct ethtool_sset_info info;
		__u32 len;
	} sset = { .info = { .cmd = ETHTOOL_GSSET_INFO,
			     .sset_mask = 1ULL << ETH_SS_FEATURES } };

	if (ethtool(&sset))
		return -1;
	return sset.info.sset_mask ? (int)sset.len : -1;
}

int main(int argc, char **argv)
{
	struct ethtool_gstrings *names;
	struct ethtool_gfeatures *feats;
	int n, blocks, i, j;

	if (argc < 3) {
		fprintf(stderr, "usage: netfeat IFACE FEATURE...\n");
		return 2;
	}
	ifname = argv[1];
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("netfeat: socket");
		return 1;
	}
	n = feature_count();
	if (n <= 0)
		return 1;
	blocks = (n + 31) / 32;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	feats = calloc(1, sizeof(*feats) + blocks * sizeof(feats->features[0]));
	if (!names || !feats)
		return 1;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = n;
	feats->cmd = ETHTOOL_GFEATURES;
	feats->size = blocks;
	if (ethtool(names) || ethtool(feats))
		return 1;
	for (i = 2; i < argc; i++) {
		for (j = 0; j < n; j++)
			if (!strncmp((char *)names->data + j * ETH_GSTRING_LEN,
				     argv[i], ETH_GSTRING_LEN))
				break;
		if (j == n) {
			fprintf(stderr, "netfeat: no feature '%s'\n", argv[i]);
			return 1;
		}
		printf("%s%d", i > 2 ? " " : "",
		       !!(feats->features[j / 32].active & (1U << (j % 32))));
	}
	printf("\n");
	close(fd);
	return 0;
}
