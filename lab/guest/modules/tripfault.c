// SPDX-License-Identifier: GPL-2.0
/*
 * tripfault: make a vCPU triple-fault the way a guest kernel bug that
 * broke its own IDT would.
 *
 * A write to /sys/module/tripfault/parameters/now loads, on the CPU the
 * writer runs on, the IDT it has with a limit of 0, turns interrupts on
 * and waits.  The next interrupt Xen delivers (the event channel upcall
 * of the timer) finds no gate, nor do the #GP and the #DF that follow, and
 * the vCPU shuts down.  Xen's saved state of it then shows an event being
 * injected through the guest's own IDT base with a limit that cannot hold
 * it, which the lab must not take for a fault of the emulator.
 */
#include <linux/irqflags.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <asm/desc_defs.h>

static int tripfault_now(const char *val, const struct kernel_param *kp)
{
	struct desc_ptr idt;
	unsigned long i;

	preempt_disable();
	local_irq_disable();
	asm volatile("sidt %0" : "=m" (idt));
	idt.size = 0;
	asm volatile("lidt %0" : : "m" (idt));
	local_irq_enable();
	/*
	 * Spin on pause alone: no instruction that Xen intercepts (rdtsc,
	 * hlt...) may come right before the fault, whose place would then
	 * look like the emulator's doing.
	 */
	for (i = 0; i < (1UL << 36); i++)
		cpu_relax();
	/* Not reached: no interrupt came. */
	preempt_enable();
	return -ETIMEDOUT;
}

static const struct kernel_param_ops tripfault_ops = {
	.set = tripfault_now,
};
module_param_cb(now, &tripfault_ops, NULL, 0200);
MODULE_PARM_DESC(now, "write anything: triple-fault this vCPU");

MODULE_DESCRIPTION("Triple-fault a vCPU through a broken IDT (lab test module)");
MODULE_LICENSE("GPL");
