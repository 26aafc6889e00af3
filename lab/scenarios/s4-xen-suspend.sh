#!/usr/bin/env bash
# s4-xen-suspend: the toolstack acts on a guest while it hibernates.  Xen
# suspends a guest for xl save, and a PVH guest takes vCPU changes, through
# the guest's xenstore watch thread, the thread that also delivers the
# backend's answers a frontend waits for while a hibernation freezes it.
# Dom0 holds xvda's backend (unbound, its state left Connected; the guest
# has no file system there), so that the hibernation stays in xvda's
# freeze until dom0 has acted and bound it again:
#  1. xl save issued there: the guest refuses to suspend and says so, xl
#     save fails, the hibernation completes and the image is restored on a
#     new domain;
#  2. xl vcpu-set issued there: the hibernation completes and the image is
#     restored, the vCPU change waiting until the hibernation is over
#     instead of the freeze waiting for xenstore until it gives up.
# The data written before each case is intact after it.
# lab-min-s: 200
. "$(dirname "$0")/../lib/lab.sh"
NAME=xsusp
# Long enough for dom0 to act while a freeze waits, and short enough that
# a freeze stalled behind the watch thread fails the cycle soon.
TIMEOUT=20
XVDA=51712
# A cycle powers off within about 20 s here; one whose freeze failed
# never does.
export S4_OFF_TIMEOUT=${S4_OFF_TIMEOUT:-120}
lab_boot
DOM_CMDLINE_EXTRA="xen_blkfront.freeze_timeout=$TIMEOUT" dom_create "$NAME" 2 ||
	fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"

# hold: unbind xvda's backend.  Whatever happens next, it is bound again
# before the scenario ends: a vbd without its driver slows down or blocks
# the teardown of its domain.
hold() {
	dom0_run -t 30 "echo -n vbd-\$(xl domid $NAME)-$XVDA > $VBD_DRIVER/unbind" ||
		fail "cannot unbind xvda's backend"
}
lab_on_exit 'dom0_run -t 30 "for d in /sys/bus/xen-backend/devices/vbd-*-$XVDA; do
	[ -e \$d/driver ] || echo -n \${d##*/} > $VBD_DRIVER/bind; done; true" >/dev/null 2>&1'

# held_freeze ACTION: a dom0 command (HIB_PRESS) that waits (30 s at most)
# until xvda's frontend is Closing, its freeze waiting for the held
# backend, runs ACTION, gives the guest 3 s to take it up, and binds the
# backend again, also when ACTION failed, and then fails.
held_freeze() {
	echo "id=\$(xl domid $NAME) && end=\$((SECONDS + 30)) &&
until [ \"\$(xenstore-read /local/domain/\$id/device/vbd/$XVDA/state)\" = 5 ]; do
	[ \$SECONDS -lt \$end ] || { echo 'xvda did not begin to close' >&2; exit 1; }; sleep 0.2
done
$1
rc=\$?
sleep 3
echo -n vbd-\$id-$XVDA > $VBD_DRIVER/bind && exit \$rc"
}

# shellcheck disable=SC2034 # for dom_hibernate_and_restore
HIB_CMD="echo @@ARMED > /dev/kmsg; $_HIB_ECHO_DISK"

# 1. xl save while the hibernation freezes the devices.  save_case: what a
# (repeated) cycle starts from: no earlier save running or on record, the
# console read from here on, xvda held.
ext4_add_file "$NAME" l1 8 || fail "writing to the ext4 on xvdc failed"
save=/scratch/save/$NAME
save_case() {
	dom0_run -t 30 "pkill -f '[x]l save $NAME'; rm -f $save.chk $save.rc $save.log; true" >/dev/null
	dom_cursor "$NAME" case1
	hold
}
save_case
HIB_HOW="echo disk, then xl save during the freeze" HIB_PRESS=$(held_freeze \
	"(xl save $NAME $save.chk; echo \$? > $save.rc) < /dev/null > $save.log 2>&1 &") \
	hib_cycle "$NAME" save_case || fail "hibernation with xl save issued during its freeze: $HIB_FAIL"
rc=$(dom0_run -t 120 "end=\$((SECONDS + 100)); until [ -s $save.rc ] || [ \$SECONDS -ge \$end ]; do sleep 1; done; cat $save.rc")
out=$(dom0_run -t 30 "tail -n 3 $save.log; rm -f $save.chk" | tr '\n' ' ')
[ -n "$rc" ] && [ "$rc" != 0 ] || fail "xl save during the hibernation's freeze ended with '$rc', not a failure: $out"
said=$(dom_log "$NAME@case1" | grep -a -o 'suspend request refused: .*' | tail -n 1 | tr -d '\r')
[ "$said" = "suspend request refused: a system sleep transition is in progress" ] ||
	fail "the guest did not say it refused the toolstack's suspend request: '$said'"
data_intact "$NAME" "xl save during a hibernation"
lab_log "1: xl save during the freeze: refused ('$said'), xl save rc $rc ($out), restored as domid $DOM_ID after ${HIB_T_RESUMED}s, data verified"

# 2. xl vcpu-set while the hibernation freezes the devices: xenstore must
# say vCPU 1 is offline before the backend is bound again.  The new domain
# offers both vCPUs again (xl keeps no record of vcpu-set), so both must be
# online after the restore.
ext4_add_file "$NAME" l2 8 || fail "writing to the ext4 on xvdc failed"
hold
HIB_HOW="echo disk, then xl vcpu-set during the freeze" HIB_PRESS=$(held_freeze "xl vcpu-set $NAME 1 &&
	[ \"\$(xenstore-read /local/domain/\$id/cpu/1/availability)\" = offline ]") \
	hib_cycle "$NAME" hold || fail "hibernation with xl vcpu-set issued during its freeze: $HIB_FAIL"
online=$(dom_run "$NAME" 'cat /sys/devices/system/cpu/online' 30)
[ "$online" = 0-1 ] || fail "vCPUs online after the restore: '$online', not 0-1 as the new domain offers"
data_intact "$NAME" "xl vcpu-set during a hibernation"
lab_log "2: xl vcpu-set during the freeze: restored as domid $DOM_ID after ${HIB_T_RESUMED}s, vCPUs $online online, data verified"
dom_destroy "$NAME"
