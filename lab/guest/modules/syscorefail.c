// SPDX-License-Identifier: GPL-2.0
/*
 * syscorefail: a system-core suspend callback that fails, as one does when
 * a platform or hypervisor step cannot be done at the snapshot.  While
 * loaded, every hibernation must fail at its last step before the image
 * is taken, and the write to /sys/power/state must say so.  Its count
 * parameter says how often it was called.  With skip=N the first N calls
 * succeed: skip=1 lets the snapshot through, and fails the same step when
 * platform mode runs it again to power off after writing the image.  err
 * is the error it returns (-EBUSY there makes the kernel roll back, as
 * for a wakeup event).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/syscore_ops.h>

static unsigned int count;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "how many times the suspend callback was called");

static unsigned int skip;
module_param(skip, uint, 0644);
MODULE_PARM_DESC(skip, "calls that succeed before the callback fails");

static int err = -EIO;
module_param(err, int, 0644);
MODULE_PARM_DESC(err, "the error the callback returns");

static int syscorefail_fail(void)
{
	return count++ < skip ? 0 : err;
}

#ifdef LAB_SYSCORE_WITH_DATA
static int syscorefail_suspend(void *data)
{
	return syscorefail_fail();
}

static const struct syscore_ops syscorefail_ops = {
	.suspend = syscorefail_suspend,
};

static struct syscore syscorefail = {
	.ops = &syscorefail_ops,
};

static void syscorefail_register(void)
{
	register_syscore(&syscorefail);
}

static void syscorefail_unregister(void)
{
	unregister_syscore(&syscorefail);
}
#else
static struct syscore_ops syscorefail_ops = {
	.suspend = syscorefail_fail,
};

static void syscorefail_register(void)
{
	register_syscore_ops(&syscorefail_ops);
}

static void syscorefail_unregister(void)
{
	unregister_syscore_ops(&syscorefail_ops);
}
#endif

static int __init syscorefail_init(void)
{
	syscorefail_register();
	return 0;
}
module_init(syscorefail_init);

static void __exit syscorefail_exit(void)
{
	syscorefail_unregister();
}
module_exit(syscorefail_exit);

MODULE_DESCRIPTION("A failing system-core suspend callback (lab test module)");
MODULE_LICENSE("GPL");
