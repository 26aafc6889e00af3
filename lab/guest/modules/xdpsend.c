// SPDX-License-Identifier: GPL-2.0
/*
 * xdpsend: an XDP frame handed to a network device while a hibernation
 * has it disconnected.
 *
 * XDP frames reach a driver's ndo_xdp_xmit() from other devices' receive
 * paths (an XDP_REDIRECT flushed from NAPI) and from its own (XDP_TX), on
 * whatever CPU, whatever the PM state of the target: a device frozen
 * earlier in the walk still gets them.  This module calls ndo_xdp_xmit()
 * the way a devmap flush does (bottom halves off, under RCU) with one
 * frame: at once when `send` is written, and from the freeze_late
 * callback of a platform device when `armed` (every .freeze callback has
 * run by then).  `result` says what the driver answered: "sent" or
 * "refused:<errno>".  The frame is an Ethernet broadcast of type 0x88b5
 * (local experimental) whose payload starts with "xdpsend".
 */
#include <linux/bpf.h>
#include <linux/etherdevice.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/platform_device.h>
#include <linux/pm.h>
#include <linux/version.h>
#include <net/xdp.h>

static char *ifname = "eth0";
module_param(ifname, charp, 0444);
static bool armed;
module_param(armed, bool, 0644);
static char result[32] = "none";
module_param_string(result, result, sizeof(result), 0444);

#define XDPSEND_LEN 64

/*
 * The frame lives in a page of its own for the module's lifetime: a
 * driver that took it may be reading it until the backend answers, and
 * nothing tells us when.
 */
static struct page *frame_page;
static struct platform_device *xdpsend_pdev;

static struct xdp_frame *xdpsend_frame(struct net_device *dev)
{
	struct xdp_frame *xdpf = page_address(frame_page);
	u8 *data = (u8 *)xdpf + XDP_PACKET_HEADROOM;
	struct ethhdr *eth = (struct ethhdr *)data;

	memset(xdpf, 0, sizeof(*xdpf));
	memset(data, 0, XDPSEND_LEN);
	eth_broadcast_addr(eth->h_dest);
	ether_addr_copy(eth->h_source, dev->dev_addr);
	eth->h_proto = htons(0x88b5);
	memcpy(data + ETH_HLEN, "xdpsend", 7);
	xdpf->data = data;
	xdpf->len = XDPSEND_LEN;
	xdpf->headroom = XDP_PACKET_HEADROOM - sizeof(*xdpf);
	xdpf->frame_sz = PAGE_SIZE;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	xdpf->mem_type = MEM_TYPE_PAGE_ORDER0;	/* the field's name since 6.14 */
#else
	xdpf->mem.type = MEM_TYPE_PAGE_ORDER0;
#endif
	return xdpf;
}

static void xdpsend_one(const char *when)
{
	struct net_device *dev;
	struct xdp_frame *xdpf;
	int n;

	dev = dev_get_by_name(&init_net, ifname);
	if (!dev) {
		strscpy(result, "no-device", sizeof(result));
		return;
	}
	if (!dev->netdev_ops->ndo_xdp_xmit) {
		strscpy(result, "no-ndo_xdp_xmit", sizeof(result));
		goto put;
	}
	xdpf = xdpsend_frame(dev);
	pr_info("xdpsend: one frame to %s (%s)\n", ifname, when);
	local_bh_disable();
	rcu_read_lock();
	n = dev->netdev_ops->ndo_xdp_xmit(dev, 1, &xdpf, XDP_XMIT_FLUSH);
	rcu_read_unlock();
	local_bh_enable();
	if (n == 1)
		strscpy(result, "sent", sizeof(result));
	else
		snprintf(result, sizeof(result), "refused:%d", n);
	pr_info("xdpsend: %s answered %s\n", ifname, result);
put:
	dev_put(dev);
}

static int xdpsend_set_send(const char *val, const struct kernel_param *kp)
{
	xdpsend_one("on request");
	return 0;
}

static const struct kernel_param_ops xdpsend_send_ops = {
	.set = xdpsend_set_send,
};
module_param_cb(send, &xdpsend_send_ops, NULL, 0200);

static int xdpsend_freeze_late(struct device *dev)
{
	if (armed) {
		armed = false;
		xdpsend_one("freeze_late");
	}
	return 0;
}

static const struct dev_pm_ops xdpsend_pm_ops = {
	.freeze_late = xdpsend_freeze_late,
};

static struct platform_driver xdpsend_driver = {
	.driver = {
		.name = "xdpsend",
		.pm = &xdpsend_pm_ops,
	},
};

static int __init xdpsend_init(void)
{
	int err;

	frame_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!frame_page)
		return -ENOMEM;
	err = platform_driver_register(&xdpsend_driver);
	if (err)
		goto free_page;
	xdpsend_pdev = platform_device_register_simple("xdpsend", -1, NULL, 0);
	if (IS_ERR(xdpsend_pdev)) {
		err = PTR_ERR(xdpsend_pdev);
		goto unregister;
	}
	return 0;
unregister:
	platform_driver_unregister(&xdpsend_driver);
free_page:
	__free_page(frame_page);
	return err;
}
module_init(xdpsend_init);

/* No exit: a frame a driver took may still be read from the page. */
MODULE_DESCRIPTION("Test: an XDP frame sent to a device disconnected by hibernation");
MODULE_LICENSE("GPL");
