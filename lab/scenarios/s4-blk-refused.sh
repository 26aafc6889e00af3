#!/usr/bin/env bash
# s4-blk-refused: the restored kernel finds xvda with another logical sector
# size, which blkfront must refuse once and for good.  A PVH guest
# hibernates with blkpark's write to xvda waiting in the frozen queue; while
# no domain holds the guest, dom0 attaches xvda's file with 4096-byte
# sectors instead of 512 (lab/dom0/overlay/block, FILE.sector-size).  Pass:
# the refusal is logged once and not retried, both ends of xvda reach
# Closed and stay there, the write the image held ends with EIO, new I/O to
# xvda fails at once instead of waiting, the files written before the
# hibernation to the ext4 on xvdc keep their checksums; xvda then
# detaches, and a new disk attached in its place reads back what it wrote.
. "$(dirname "$0")/../lib/lab.sh"
NAME=refused
XVDA=51712
SECTOR=131072
PAGES=8
QUIET_S=15 # how long the refusal must stay single
lab_boot
ramdisk=$(blkpark_ramdisk) || fail "no initramfs with blkpark"
# A sector size left by an earlier run would apply from the first boot.
dom0_run "mkdir -p /scratch/$NAME && rm -f /scratch/$NAME/data.img.sector-size" >/dev/null || fail "cannot prepare /scratch/$NAME"
DOM_RAMDISK=$ramdisk dom_create "$NAME" || fail "$NAME did not become ready"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
tag=r-$RANDOM
st=$(blkpark_arm "$NAME" /dev/xvda $SECTOR $PAGES "$tag") || fail "cannot load or arm blkpark"
[ "$st" = idle ] || fail "blkpark state '$st' before arming"
HIB_WHILE_OFF="echo 4096 > /scratch/$NAME/data.img.sector-size" \
HIB_UNDO_WHILE_OFF="rm -f /scratch/$NAME/data.img.sector-size" \
	hib_cycle "$NAME" 'blkpark_arm "$NAME" /dev/xvda $SECTOR $PAGES "$tag" >/dev/null' ||
	fail "hibernation failed: $HIB_FAIL"
lab_log "off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, xvda now has 4096-byte sectors"
id=$(dom_id "$NAME")

img=$(blkpark_at_restore "$NAME")
[ "$img" = pending ] || fail "the image held blkpark's write as '$img', not pending"
st=$(blkpark_wait_done "$NAME" 60) || fail "the write the image held did not end within 60 s of the resume (state '$st')"
[ "$st" = done:-5 ] || fail "the write the image held ended with '$st', want done:-5 (EIO)"

# Both ends Closed, and the refusal logged once over QUIET_S seconds: a
# frontend that retried would reconnect and be refused again.
end=$((SECONDS + 60))
until [ "$(xenbus_states "$id" vbd $XVDA)" = "6 6" ]; do
	[ $SECONDS -lt $end ] || fail "xvda's frontend/backend states are '$(xenbus_states "$id" vbd $XVDA)', not Closed (6 6)"
	sleep 2
done
end=$((SECONDS + QUIET_S))
while :; do
	n=$(dom_run "$NAME" 'dmesg | grep -c "backend sector size changed from 512 to 4096"' 30)
	[ "$n" = 1 ] || fail "blkfront logged the sector size refusal $n times, want once"
	st=$(xenbus_states "$id" vbd $XVDA)
	[ "$st" = "6 6" ] || fail "xvda left Closed: states '$st'"
	[ $SECONDS -lt $end ] || break
	sleep 3
done
lab_log "xvda refused once and Closed for ${QUIET_S}s; the parked write ended with EIO"

# New I/O ends at once (a dd that waited would make dom_run time out): the
# dead disk has no sectors left, so a write fails and a read gets nothing.
out=$(dom_run "$NAME" 'dd if=/dev/zero of=/dev/xvda bs=4096 count=1 oflag=direct 2>&1; echo "rc=$?"' 30) ||
	fail "a write to xvda did not return within 30 s"
[ "${out##*rc=}" != 0 ] || fail "a write to the refused xvda succeeded: $out"
out=$(dom_run "$NAME" 'dd if=/dev/xvda bs=4096 count=1 iflag=direct 2>/dev/null | wc -c' 30) ||
	fail "a read of xvda did not return within 30 s"
[ "$out" = 0 ] || fail "a read of the refused xvda returned $out bytes"
ext4_check_files "$NAME" || fail "the ext4 files on xvdc changed (or no answer) after xvda was refused"

# Detach the dead disk; a new disk in its place is a new, working xvda.
dom0_run -t 90 "xl block-detach $NAME xvda" >/dev/null || fail "xl block-detach of the refused xvda failed"
dom0_run "cd /scratch/$NAME && rm -f data.img.sector-size new.img && truncate -s 64M new.img &&
	xl block-attach $NAME 'format=raw,vdev=xvda,access=rw,target=/scratch/$NAME/new.img'" >/dev/null ||
	fail "xl block-attach of a new xvda failed"
st=$(xenbus_connected "$id" vbd $XVDA 60) || fail "the new xvda's states are '$st', not Connected"
sum=$(dom_run "$NAME" 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/xvda ] && break; sleep 1; done
dd if=/dev/urandom of=/tmp/pat bs=4096 count=16 2>/dev/null &&
dd if=/tmp/pat of=/dev/xvda bs=4096 oflag=direct 2>/dev/null &&
a=$(md5sum < /tmp/pat) && b=$(dd if=/dev/xvda bs=4096 count=16 iflag=direct 2>/dev/null | md5sum) &&
[ "$a" = "$b" ] && echo same' 60)
[ "$sum" = same ] || fail "the new xvda does not read back what was written to it ('$sum')"
lab_log "the refused xvda detached; a new xvda attached and verified"
dom_destroy "$NAME"
