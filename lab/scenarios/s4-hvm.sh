#!/usr/bin/env bash
# s4-hvm: s4-pvh as an HVM guest (qemu-xen device model in dom0, direct
# kernel boot of the bzImage, so the decompressor randomises the kernel's
# base): two real hibernation cycles, each restored on a new domain, fio
# write+verify loop across them, ext4 files keep their checksums; the ACPI
# power button, whose interrupt Xen delivers as a physical IRQ, is counted
# before and after each cycle, and Xen must have a PIRQ event channel for
# each IRQ the guest started and no other; the virtual keyboard (xl's
# default vkb, xen-kbdfront) is Connected again, asking for the absolute
# pointer its backend offers.  After the cycles, the same checks after
# Xen's own save and restore of the guest.  Hibernation mode "platform": after writing
# the image the kernel enters ACPI S4, which Xen's HVM firmware offers.
# lab-min-s: 500
. "$(dirname "$0")/../lib/lab.sh"
export DOM_TYPE=hvm S4_NAME=${S4_NAME:-hvm} DOM_READY_TIMEOUT=${HVM_READY_TIMEOUT:-300}
# Two cycles, not s4-pvh's three: an HVM cycle costs twice a PVH one here,
# and what a third would repeat, s4-pvh and the soak repeat.
export S4_CYCLES=${S4_CYCLES:-2}
export S4_DISK_MODE=${S4_DISK_MODE:-platform}
exec bash "$(dirname "$0")/s4-pvh.sh"
