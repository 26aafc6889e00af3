#!/usr/bin/env bash
# s4-blk-parked: a write that waits in blk-mq for xvda across hibernation,
# restored by a backend that offers another number of rings.  A 2-vCPU PVH
# guest loads blkpark (lab/guest/modules), which submits one write to xvda
# from a freeze_late callback: every disk is disconnected then, so the
# request waits in blk-mq, in the image too.  Cycle 1: the image is taken
# with 2 rings per disk and restored by backends that offer 1 (dom0's
# xen_blkback max_queues); cycle 2: 1 ring, restored with 2 on offer.  Each
# time the restored kernel completes the write it inherited (status 0), its
# data reads back (the kernel that wrote the image sent the same write with
# other data: only the restored kernel's write leaves the cycle's tag), xvda uses the rings on offer (at most its 2 hardware
# queues), and a fio verify loop on xvda has no errors.
# lab-min-s: 190
. "$(dirname "$0")/../lib/lab.sh"
NAME=parked
SECTOR=131072 # 64 MiB into xvda, past the fio loop's 16 MiB
PAGES=8
XVDA=51712
lab_boot
ramdisk=$(blkpark_ramdisk) || fail "no initramfs with blkpark"
orig_queues=$(dom0_run 'cat /sys/module/xen_blkback/parameters/max_queues') || fail "dom0 has no xen_blkback max_queues"
lab_on_exit 'dom0_run "echo $orig_queues > /sys/module/xen_blkback/parameters/max_queues" >/dev/null 2>&1'
set_queues() { dom0_run "echo $1 > /sys/module/xen_blkback/parameters/max_queues" >/dev/null; }
lab_log "dom0's xen_blkback max_queues was $orig_queues; set per cycle"

# rings: how many rings xvda's frontend set up, from xenstore (one ring
# is published without multi-queue-num-queues).
rings() {
	dom0_run -t 30 "xenstore-read /local/domain/$(dom_id "$NAME")/device/vbd/$XVDA/multi-queue-num-queues 2>/dev/null || echo 1" | tr -d '\r\n '
}
# arm TAG: arm blkpark for this cycle's write, whose lines carry TAG.
arm() { blkpark_arm "$NAME" /dev/xvda $SECTOR $PAGES "$1"; }

set_queues 2 || fail "cannot set dom0's xen_blkback max_queues"
DOM_RAMDISK=$ramdisk dom_create "$NAME" 2 || fail "$NAME did not become ready"
fio_start "$NAME" 16M || fail "fio loop did not start"
c=0
for plan in "2 1" "1 2"; do
	read -r before after <<< "$plan"
	c=$((c + 1))
	now=$(rings)
	[ "$now" = "$before" ] || fail "cycle $c: xvda has $now rings before hibernation, want $before"
	# One tag per cycle: a write from an earlier cycle cannot pass for
	# this one's.
	tag=c$c-$RANDOM
	st=$(arm "$tag") || fail "cycle $c: cannot load or arm blkpark"
	[ "$st" = idle ] || [ "${st#done:}" != "$st" ] || fail "cycle $c: blkpark state '$st' before arming"
	HIB_WHILE_OFF="echo $after > /sys/module/xen_blkback/parameters/max_queues" \
	HIB_UNDO_WHILE_OFF="echo $before > /sys/module/xen_blkback/parameters/max_queues" \
		hib_cycle "$NAME" 'fio_start "$NAME" 16M >/dev/null && arm "$tag" >/dev/null' ||
		fail "cycle $c: hibernation failed: $HIB_FAIL"
	lab_log "cycle $c: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create; backends offer $after ring(s)"
	# The restored kernel inherited the write pending; it must complete.
	st=$(blkpark_wait_done "$NAME" 60) ||
		fail "cycle $c: the parked write did not complete within 60 s of the resume (state '$st')"
	[ "$st" = done:0 ] || fail "cycle $c: the parked write ended with '$st'"
	# ... and it was still waiting when the image was taken.
	img=$(blkpark_at_restore "$NAME")
	[ "$img" = pending ] || fail "cycle $c: the image held the write as '$img', not pending: nothing was parked"
	dom_run "$NAME" 'dmesg | grep "blkpark:" | tail -n 2' 30 | sed 's/^/# /' >&2
	got=$(blkpark_check_lines "$NAME" /dev/xvda $SECTOR $PAGES "$tag") ||
		fail "cycle $c: xvda holds $got lines of the parked write"
	now=$(rings)
	lab_log "cycle $c: parked write done:0, $got lines read back, xvda on $now ring(s)"
	[ "$now" = "$after" ] || fail "cycle $c: xvda uses $now rings after the restore, want $after"
	read -r passes fails <<< "$(fio_status "$NAME")"
	[ "${fails:-x}" = 0 ] || fail "cycle $c: fio loop reports '${passes:-?} ${fails:-?}' (passes failures)"
done
out=$(fio_stop "$NAME") || fail "fio loop reported errors across hibernation: $out"
lab_log "fio loop passes/failures: $out"
dom_destroy "$NAME"
