#!/usr/bin/env bash
# s4-abort: the swap disk is far too small for the image.  Hibernation must
# fail with an error, the domain must stay the same one, and the disks must
# keep working with their data intact (they were frozen, then thawed to write
# the image, which failed).  Then the same with a system-core suspend
# callback that fails (lab/guest/modules/syscorefail.c), the last step
# before the snapshot: the write to /sys/power/state must report it.
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
ramdisk=$(guest_module_ramdisk syscorefail) || fail "no initramfs with syscorefail"
DOM_RAMDISK=$ramdisk DOM_SWAP_MB=4 dom_create abort || fail "abort did not become ready"
fio_write abort 64M || fail "fio write failed"
hib_must_abort abort "a 4 MiB swap disk" "" sync
fio_verify abort 64M || fail "data on xvda does not verify after the aborted hibernation"
dom_run abort 'dd if=/dev/zero of=/mnt/c/after bs=64k count=16 && sync && rm /mnt/c/after' 60 ||
	fail "ext4 on xvdc not writable after the aborted hibernation"
dom_run abort 'insmod /lib/syscorefail.ko' 30 > /dev/null || fail "cannot load syscorefail"
hib_must_abort abort "a failing system-core suspend callback"
n=$(dom_run abort 'cat /sys/module/syscorefail/parameters/count' 30)
[ "$n" = 1 ] || fail "syscorefail was called ${n:-?} times, not once"
fio_verify abort 64M || fail "data on xvda does not verify after the failed snapshot"
dom_destroy abort
