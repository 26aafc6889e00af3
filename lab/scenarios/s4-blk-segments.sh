#!/usr/bin/env bash
# s4-blk-segments: a write of more segments than a request may carry
# without indirect descriptors waits across hibernation, and the backend
# that takes the restored kernel offers no indirect descriptors.  A PVH
# guest loads blkpark, whose write of 32 pages (32 segments, blkfront's
# default limit with indirect descriptors) waits for xvda in the image.
# Cycle 1: as the new domain's xvda backend appears, dom0 rewrites its
# feature-max-indirect-segments to 0, so the restored kernel reconnects
# with at most 11 segments per request; cycle 2: restored with the
# backend's own offer again.  Each time the restored kernel completes the
# write (status 0), its data reads back, xvda's queue takes the limit on
# offer (max_segments 11, then 32), and the fio pattern written to xvda
# before the first hibernation verifies.
# lab-min-s: 160
. "$(dirname "$0")/../lib/lab.sh"
NAME=segments
SECTOR=131072
PAGES=32
XVDA=51712
lab_boot
ramdisk=$(blkpark_ramdisk) || fail "no initramfs with blkpark"
DOM_RAMDISK=$ramdisk dom_create "$NAME" || fail "$NAME did not become ready"
fio_write "$NAME" 16M >/dev/null || fail "fio write failed"

# A dom0 job, started while the guest is off: once the new domain's xvda
# backend has written its offer (at probe, before the loading kernel
# connects), replace it with no indirect descriptors.
no_indirect="setsid sh -c 'i=0; while [ \$i -lt 300 ]; do i=\$((i + 1))
	d=\$(xl domid $NAME 2>/dev/null) &&
	k=/local/domain/0/backend/vbd/\$d/$XVDA/feature-max-indirect-segments &&
	xenstore-read \$k >/dev/null 2>&1 && xenstore-write \$k 0 && exit 0
	sleep 0.2; done' </dev/null >/dev/null 2>&1 &"
max_segments() { dom_run "$NAME" 'cat /sys/block/xvda/queue/max_segments' 30; }

c=0
for plan in "$no_indirect 11" ": 32"; do
	want=${plan##* } while_off=${plan% *}
	c=$((c + 1))
	tag=s$c-$RANDOM
	st=$(blkpark_arm "$NAME" /dev/xvda $SECTOR $PAGES "$tag") || fail "cycle $c: cannot load or arm blkpark"
	[ "$st" = idle ] || [ "${st#done:}" != "$st" ] || fail "cycle $c: blkpark state '$st' before arming"
	HIB_WHILE_OFF=$while_off hib_cycle "$NAME" 'blkpark_arm "$NAME" /dev/xvda $SECTOR $PAGES "$tag" >/dev/null' ||
		fail "cycle $c: hibernation failed: $HIB_FAIL"
	offer=$(dom0_run -t 30 "xenstore-read /local/domain/0/backend/vbd/$(dom_id "$NAME")/$XVDA/feature-max-indirect-segments" | tr -d '\r\n ')
	lab_log "cycle $c: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create; the backend offers $offer indirect segments"
	img=$(blkpark_at_restore "$NAME")
	[ "$img" = pending ] || fail "cycle $c: the image held the write as '$img', not pending"
	st=$(blkpark_wait_done "$NAME" 60) ||
		fail "cycle $c: the write did not complete within 60 s of the resume (state '$st')"
	[ "$st" = done:0 ] || fail "cycle $c: the write ended with '$st'"
	got=$(blkpark_check_lines "$NAME" /dev/xvda $SECTOR $PAGES "$tag") ||
		fail "cycle $c: xvda holds $got lines of the write"
	segs=$(max_segments)
	[ "$segs" = "$want" ] || fail "cycle $c: xvda's queue takes $segs segments, want $want"
	FIO_TIMEOUT=120 fio_verify "$NAME" 16M >/dev/null ||
		fail "cycle $c: the fio pattern written before hibernation does not verify"
	lab_log "cycle $c: the write done:0, $got lines read back, max_segments $segs, fio pattern verified"
done
dom_destroy "$NAME"
