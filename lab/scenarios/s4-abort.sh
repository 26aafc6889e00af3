#!/usr/bin/env bash
# s4-abort: the swap disk is far too small for the image.  Hibernation must
# fail with an error, the domain must stay the same one, and the disks must
# keep working with their data intact (they were frozen, then thawed to write
# the image, which failed).
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
DOM_SWAP_MB=4 dom_create abort || fail "abort did not become ready"
fio_write abort 64M || fail "fio write failed"
hib_must_abort abort "a 4 MiB swap disk" "" sync
fio_verify abort 64M || fail "data on xvda does not verify after the aborted hibernation"
dom_run abort 'dd if=/dev/zero of=/mnt/c/after bs=64k count=16 && sync && rm /mnt/c/after' 60 ||
	fail "ext4 on xvdc not writable after the aborted hibernation"
dom_destroy abort
