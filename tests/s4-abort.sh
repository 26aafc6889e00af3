#!/usr/bin/env bash
# s4-abort: the swap disk is far too small for the image.  Hibernation must
# fail with an error, the domain must stay the same one, and the disks must
# keep working with their data intact (they were frozen, then thawed to write
# the image, which failed).
. "$(dirname "$0")/../lab/lib.sh"
lab_boot
DOM_SWAP_MB=4 dom_create abort || fail "abort did not become ready"
fio_write abort 64M || fail "fio write failed"
old=$DOM_ID
out=$(dom_run abort 'sync; echo disk > /sys/power/state; echo "echo disk rc=$?"' 240)
rc=$?
lab_log "guest: $out"
[ $rc = 0 ] || fail "guest did not answer after the failed hibernation (rc=$rc)"
case $out in
*"echo disk rc=0"*) fail "hibernation claimed success with a 4 MiB swap disk" ;;
*"echo disk rc="*) ;;
*) fail "no exit status from echo disk: $out" ;;
esac
[ "$(dom_id abort)" = "$old" ] || fail "domain changed: the guest did not stay up"
fio_verify abort 64M || fail "data on xvda does not verify after the aborted hibernation"
dom_run abort 'dd if=/dev/zero of=/mnt/c/after bs=64k count=16 && sync && rm /mnt/c/after' 60 ||
	fail "ext4 on xvdc not writable after the aborted hibernation"
dom_destroy abort
