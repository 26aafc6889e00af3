#!/usr/bin/env bash
# s4-backend-slow: a disk whose backend is slow, with writes in flight when
# the hibernation starts.  The PVH guest's xvdd sits on a device-mapper
# delay target in dom0; the guest tool aiostamp keeps 16 O_DIRECT writes in
# flight on it with native AIO, so that they stay in flight while user space
# is frozen and blkfront's freeze (xen_blkfront.freeze_timeout=5) must wait
# for them.  Case 1, every I/O delayed 2 s: the freeze drains the writes and
# the guest is restored on a new domain (the delay gone).  Case 2, every I/O
# delayed 12 s: the freeze gives up after 5 s with blkfront's message, the
# hibernation is aborted and the same domain goes on.  Pass, after each
# case: the writes were in flight when the hibernation began; the writer
# goes on, and every block holds at least its last completed write (none
# lost, no older write done again after a newer one); after the writer
# stopped, no write failed; xvdd Connected at both ends; xvda's pattern and
# xvdc's files verify; no warning, BUG or oops.  Case 3, Xen's save and
# restore with a discard held 20 s by the backend, restored with xvdd
# attached without discard: the discard, sent again after the restore,
# fails in the guest and never reaches the new backend; xvdd no longer
# announces discard; the rest as above.
# lab-min-s: 360
. "$(dirname "$0")/../lib/lab.sh"
NAME=slow
TIMEOUT=5
XVDD=51760
BLOCKS=4096 DEPTH=16
DM="dmsetup --noudevsync"
SLOW=$NAME-xvdd	# the device-mapper target in dom0
lab_boot

# The delay target over a loop device; a run before this one may have left
# both behind.
slow_cleanup="$DM remove --retry $SLOW 2>/dev/null; [ -s lo ] && losetup -d \$(cat lo) 2>/dev/null; rm -f lo"
lab_on_exit "DOM0_QUIET=1 dom0_run -t 60 'xl destroy $NAME 2>/dev/null; cd /scratch/$NAME && $slow_cleanup' >/dev/null 2>&1"
# shellcheck disable=SC2034 # for dom_create
DOM_DISKS="xvda data.img
xvdb swap.img
xvdc ext4.img
xvdd xvdd.dev"
# shellcheck disable=SC2034 # for dom_create
DOM_MAKE_DISKS="$slow_cleanup; modprobe dm-delay && rm -f ./*.img xvdd.dev && truncate -s ${DOM_DATA_MB}M data.img &&
	truncate -s ${DOM_SWAP_MB}M swap.img && cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img &&
	truncate -s 64M slow.img && losetup -f --show slow.img > lo &&
	$DM create $SLOW --table \"0 131072 delay \$(cat lo) 0 0\" && $DM mknodes $SLOW &&
	ln -s /dev/mapper/$SLOW xvdd.dev && [ -b xvdd.dev ]"

# slow_delay_cmd MS: the dom0 command after which every I/O to xvdd's
# backing device takes MS ms.  Suspending the target first lets the I/O it
# holds go.
slow_delay_cmd() {
	echo "cd /scratch/$NAME && $DM suspend $SLOW && $DM reload $SLOW --table \"0 131072 delay \$(cat lo) 0 $1\" && $DM resume $SLOW"
}
slow_delay() {
	dom0_run -t 60 "$(slow_delay_cmd "$1")" >/dev/null || fail "cannot set xvdd's delay to $1 ms"
	lab_log "xvdd: every I/O delayed $1 ms"
}

# The writer, in the guest's background; its state (what completed) in
# the guest's memory, so that it goes across the hibernation.
writer_start() {
	dom_run "$NAME" "aiostamp write /dev/xvdd $BLOCKS $DEPTH /tmp/as.state > /tmp/as.out 2>&1 &
i=0; until grep -q started /tmp/as.out; do i=\$((i+1)); [ \$i -lt 60 ] || exit 1; sleep 0.5; done" 60
}
writer_acked() { dom_run "$NAME" "aiostamp status /tmp/as.state" 30 | awk '{ print $2 }'; }

# writer_goes_on WHEN: the writer completes 500 more writes within 120 s,
# and every block holds at least its last completed write.
writer_goes_on() {
	local a0 out
	a0=$(writer_acked) && [ -n "$a0" ] || fail "$1: no writer state in the guest"
	dom_run "$NAME" "i=0; while [ \$(aiostamp status /tmp/as.state | cut -d' ' -f2) -lt $((a0 + 500)) ]; do
i=\$((i+1)); [ \$i -lt 120 ] || exit 1; sleep 1; done" 150 >/dev/null ||
		fail "$1: the writer on xvdd made no progress within 120 s (at $a0 writes: $(dom_run "$NAME" 'aiostamp status /tmp/as.state' 30))"
	out=$(dom_run "$NAME" "aiostamp check /dev/xvdd $BLOCKS /tmp/as.state 2>&1 | tail -n 4" 120) ||
		fail "$1: xvdd lost completed writes: $out"
	lab_log "$1: xvdd $out"
}

# writes_in_flight_at_hibernation: what the guest saw in xvdd's queue just
# before it asked to hibernate (HIB_CMD and hib_must_abort's PRE write it).
SAVE_INFLIGHT='read -r r w < /sys/block/xvdd/inflight; echo "$w" > /tmp/inflight.hib'
writes_in_flight_at_hibernation() {
	local w
	w=$(dom_run "$NAME" 'cat /tmp/inflight.hib' 30)
	[ "$w" = "$DEPTH" ] || fail "$1: $w writes in flight on xvdd when the hibernation began, want $DEPTH"
}

others_intact() {
	local st w
	st=$(xenbus_connected "$(dom_id "$NAME")" vbd $XVDD 60) || fail "$1: xvdd's states are '$st', not Connected"
	data_intact "$NAME" "$1"
	w=$(dom_warnings "$NAME") && [ -z "$w" ] || fail "$1: the guest warned: $w"
}

ramdisk=$(blkpark_ramdisk) || fail "no initramfs with blkpark"
DOM_RAMDISK=$ramdisk DOM_CMDLINE_EXTRA="${DOM_CMDLINE_EXTRA:-} xen_blkfront.freeze_timeout=$TIMEOUT" DOM_MEM=256 dom_create "$NAME" 2 ||
	fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
recover_writer() { dom_run "$NAME" "dd if=/dev/zero of=/dev/xvdd bs=1M count=$((BLOCKS / 256)) oflag=direct 2>/dev/null" 300 && writer_start; }
writer_start >/dev/null || fail "the writer on xvdd did not start"

# Case 1: 2 s per I/O, below the freeze's bound.
slow_delay 2000
HIB_CMD="$SAVE_INFLIGHT; $_HIB_ECHO_DISK" HIB_WHILE_OFF=$(slow_delay_cmd 0) \
	hib_cycle "$NAME" 'recover_writer >/dev/null && slow_delay 2000' || fail "case 1 (2 s per I/O): hibernation failed: $HIB_FAIL"
lab_log "case 1: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $(dom_id "$NAME")"
writes_in_flight_at_hibernation "case 1"
lab_log "case 1: xvdd's freeze: $(dom_run "$NAME" "dmesg | grep -E 'vbd-$XVDD: PM: xenbus_dev_suspend returned' | tail -n 1" 30)"
writer_goes_on "case 1, restored"
others_intact "case 1, restored"

# Case 2: 12 s per I/O, beyond the freeze's bound.
slow_delay 12000
dom_run "$NAME" 'i=0; until read -r r w < /sys/block/xvdd/inflight && [ "$w" -gt 0 ]; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 0.5; done' 60 >/dev/null ||
	fail "case 2: no write in flight on xvdd"
hib_must_abort "$NAME" "xvdd's writes held 12 s" slow-abort-s "$SAVE_INFLIGHT"
writes_in_flight_at_hibernation "case 2"
said=$(dom_run "$NAME" "dmesg | grep -E 'vbd-$XVDD: requests still in flight after $TIMEOUT s'" 30)
[ -n "$said" ] || fail "case 2: blkfront did not say xvdd's requests were still in flight"
slow_delay 0
writer_goes_on "case 2, aborted"
others_intact "case 2, aborted"

# The writer stopped, every write it made completed without error.
out=$(dom_run "$NAME" 'kill -TERM $(pidof aiostamp); i=0; while pidof aiostamp >/dev/null; do i=$((i+1)); [ $i -lt 120 ] || exit 1; sleep 0.5; done; cat /tmp/as.out' 90) ||
	fail "the writer on xvdd did not stop: $out"
out=$(dom_run "$NAME" "aiostamp check /dev/xvdd $BLOCKS /tmp/as.state 2>&1 | tail -n 4" 120) ||
	fail "after the writer stopped: $out"
lab_log "xvdd after the hibernations: $out"

# Case 3, Xen's own save and restore: a discard the slow backend holds
# when the guest is saved stays in blkfront's shadow and is sent again
# after the restore, where xvdd's new backend offers no discard.  It must
# fail there, not go to a backend that never offered the operation
# (blkback counts the discards it got in ds_req).  User space cannot keep
# a discard in flight across the freezer; blkpark submits it from its
# freeze_late callback, which Xen's suspend runs too.
[ "$(dom_run "$NAME" 'cat /sys/block/xvdd/queue/discard_max_bytes' 30)" != 0 ] ||
	fail "case 3: xvdd's backend offers no discard to begin with"
cfg=$LAB_RUN/cfg/$NAME.cfg
sed "s|vdev=xvdd,access=rw,|vdev=xvdd,access=rw,no-discard,|" "$cfg" > "$cfg.nodiscard"
grep -q "vdev=xvdd,access=rw,no-discard," "$cfg.nodiscard" || fail "case 3: cannot write the restored domain's configuration"
st=$(BLKPARK_OP=discard blkpark_arm "$NAME" /dev/xvdd 65536 256 discard) && [ "$st" = idle ] ||
	fail "case 3: cannot load or arm blkpark ($st)"
slow_delay 20000
dom0_run -t 300 "mkdir -p /scratch/save && xl save $NAME /scratch/save/$NAME.chk" >/dev/null || fail "case 3: xl save failed"
slow_delay 0
dom0_run -t 300 "xl restore /lab/run/cfg/$NAME.cfg.nodiscard /scratch/save/$NAME.chk && rm -f /scratch/save/$NAME.chk" >/dev/null ||
	fail "case 3: xl restore failed"
id=$(dom_id "$NAME")
st=$(xenbus_connected "$id" vbd $XVDD 60) || fail "case 3: xvdd's states are '$st' after the restore, not Connected"
st=$(blkpark_wait_done "$NAME" 60) || fail "case 3: the discard did not end within 60 s of the restore (state $st)"
held=$(blkpark_at_restore "$NAME")
got=$(dom0_run -t 30 "cat /sys/bus/xen-backend/devices/vbd-$id-$XVDD/statistics/ds_req")
max=$(dom_run "$NAME" 'cat /sys/block/xvdd/queue/discard_max_bytes' 30)
lab_log "case 3: the discard was $held at the restore, then $st; discards the new backend got: $got; xvdd's discard_max_bytes $max"
[ "$held" = pending ] || fail "case 3: the discard was '$held' when the guest was restored, not pending"
[ "$got" = 0 ] || fail "case 3: xvdd's new backend, which offers no discard, got $got discard requests"
[ "$st" = done:-95 ] || fail "case 3: the discard held across the restore ended with '$st', want done:-95 (EOPNOTSUPP)"
[ "$max" = 0 ] || fail "case 3: xvdd still announces discard after the restore ($max)"
others_intact "case 3, restored by Xen"
dom_destroy "$NAME"
