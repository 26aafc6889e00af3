// SPDX-License-Identifier: GPL-2.0
/*
 * syscorefail: a system-core suspend callback that fails, as one does when
 * a platform or hypervisor step cannot be done at the snapshot.  While
 * loaded, every hibernation must fail at its last step before the image
 * is taken, and the write to /sys/power/state must say so.  Its count
 * parameter says how often it was called.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/syscore_ops.h>

static unsigned int count;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "how many times the suspend callback failed");

static int syscorefail_suspend(void *data)
{
	count++;
	return -EIO;
}

static const struct syscore_ops syscorefail_ops = {
	.suspend = syscorefail_suspend,
};

static struct syscore syscorefail = {
	.ops = &syscorefail_ops,
};

static int __init syscorefail_init(void)
{
	register_syscore(&syscorefail);
	return 0;
}
module_init(syscorefail_init);

static void __exit syscorefail_exit(void)
{
	unregister_syscore(&syscorefail);
}
module_exit(syscorefail_exit);

MODULE_DESCRIPTION("A failing system-core suspend callback (lab test module)");
MODULE_LICENSE("GPL");
