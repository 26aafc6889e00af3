#!/usr/bin/env bash
# s4-xs-quota: a PVH guest with 12 disks hibernates while a xenstore client
# in it holds 10 transactions open, which leaves the guest's kernel one
# more under C xenstored's default quota (11 open).  The disks freeze in
# parallel and each freeze opens a transaction; one that xenstored refuses
# must wait for another to end rather than fail the disk's freeze, which
# would abort the hibernation.  After the restore on a new domain every
# disk is Connected and the fio pattern verifies.
# lab-timeout-s: 600
. "$(dirname "$0")/../lib/lab.sh"
NAME=xsquota
HELD=10
DISKS="xvda data.img
xvdb swap.img"
MAKE_DISKS="rm -f ./*.img && truncate -s 64M data.img && truncate -s 384M swap.img"
for l in c d e f g h i j k l; do
	DISKS+=$'\n'"xvd$l d$l.img"
	MAKE_DISKS+=" && truncate -s 16M d$l.img"
done
lab_boot
DOM_MEM=256 DOM_SWAP_MB=384 DOM_DISKS=$DISKS DOM_MAKE_DISKS=$MAKE_DISKS dom_create "$NAME" ||
	fail "$NAME did not become ready"
fio_write "$NAME" 16M > /dev/null || fail "fio write failed"

out=$(xenhold_start "$NAME" transactions "$HELD") || fail "xenhold transactions $HELD: $out"
lab_log "xenhold: $out"

old=$(dom_id "$NAME")
hib_cycle "$NAME" 'xenhold_start "$NAME" transactions "$HELD" >/dev/null' || fail "hibernation with $HELD transactions held by user space failed: $HIB_FAIL"
lab_log "off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create; domid $old, now $DOM_ID"
out=$(dom_run "$NAME" 'for i in $(seq 30); do
		n=$(grep -L -x Connected /sys/bus/xen/devices/vbd-*/state | wc -l); [ "$n" = 0 ] && break; sleep 1
	done; grep -H . /sys/bus/xen/devices/vbd-*/state | grep -v -c ":Connected$"; exit 0' 60) ||
	fail "cannot read the disks' states"
[ "$out" = 0 ] || fail "$out disks not Connected after the restore: $(dom_run "$NAME" 'grep -H . /sys/bus/xen/devices/vbd-*/state' 30)"
FIO_TIMEOUT=${S4_IO_TIMEOUT:-90} fio_verify "$NAME" 16M > /dev/null || fail "data not verified after the restore"
xenhold_stop "$NAME" || fail "xenhold did not end"
dom_destroy "$NAME"
