#!/usr/bin/env bash
# s4-held: a PVH guest holds what a hibernation cannot hand over to a new
# domain, and each time the kernel must refuse, before anything is frozen,
# saying what is held:
#  - an event channel bound from user space (/dev/xen/evtchn, as vchan does);
#  - a grant offered to another domain (/dev/xen/gntalloc);
#  - a grant mapping set up (/dev/xen/gntdev);
#  - a block backend serving another domain (the guest is a driver domain:
#    dom0 writes the backend's xenstore nodes, blkback binds to them).
# Each refusal leaves the same domain running with its data intact.  Once
# all is let go, the guest hibernates, a new domain resumes it and the fio
# pattern verifies.  HELD= picks the cases (default: all four, in order).
# lab-timeout-s: 900
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=held
FE_DEV=51999
lab_boot
dom_create "$NAME" || fail "$NAME did not become ready"
fio_write "$NAME" 32M > /dev/null || fail "fio write failed"

# must_refuse WHAT REGEX: echo disk fails, the kernel says REGEX, and the
# domain and its data are as they were.
must_refuse() {
	local what=$1 re=$2 out
	dom_run "$NAME" 'dmesg -c > /dev/null' 30 || fail "$what: dmesg -c failed"
	hib_must_abort "$NAME" "$what"
	out=$(dom_run "$NAME" "dmesg | grep -E '$re'" 30) ||
		fail "$what: no kernel message /$re/: $(dom_run "$NAME" 'dmesg | tail -n 12' 30)"
	lab_log "$what: refused: $out"
	fio_verify "$NAME" 32M > /dev/null || fail "$what: data does not verify after the refusal"
}

# held_by_tool KIND REGEX: xenhold KIND runs in the guest while echo disk
# must be refused, then is killed.
held_by_tool() {
	local kind=$1 re=$2 out
	out=$(xenhold_start "$NAME" "$kind") || fail "xenhold $kind: $out"
	lab_log "xenhold: $out"
	must_refuse "$kind held by user space" "$re"
	xenhold_stop "$NAME" || fail "xenhold $kind did not end"
}

# A backend as the toolstack would set one up in a driver domain, for a
# frontend in dom0 that never connects.
backend_nodes() {
	local id fe be
	id=$(dom_id "$NAME")
	fe=/local/domain/0/device/vbd/$FE_DEV
	be=/local/domain/$id/backend/vbd/0/$FE_DEV
	echo "xenstore-write $fe/state 1 $fe/backend-id $id $fe/backend $be &&
		xenstore-chmod -r $fe n0 r$id &&
		xenstore-write $be/frontend $fe $be/frontend-id 0 $be/online 1 $be/state 1 \
			$be/mode w $be/type phy $be/dev xvdz &&
		xenstore-chmod -r $be n$id r0"
}

backend_remove() {
	local id
	id=$(dom_id "$NAME")
	echo "xenstore-rm /local/domain/$id/backend/vbd/0/$FE_DEV; xenstore-rm /local/domain/0/device/vbd/$FE_DEV"
}

held_backend() {
	local out
	dom0_run -t 30 "$(backend_nodes)" > /dev/null || fail "cannot write the backend's xenstore nodes"
	out=$(dom_run "$NAME" "for i in \$(seq 20); do [ -e /sys/bus/xen-backend/devices/vbd-0-$FE_DEV/driver ] && break; sleep 1; done
		ls -l /sys/bus/xen-backend/devices/vbd-0-$FE_DEV/driver" 60) ||
		fail "blkback did not bind to the backend device: $out"
	must_refuse "a backend serving dom0" "$1"
	dom0_run -t 30 "$(backend_remove)" > /dev/null || fail "cannot remove the backend's xenstore nodes"
	out=$(dom_run "$NAME" "for i in \$(seq 20); do [ -e /sys/bus/xen-backend/devices/vbd-0-$FE_DEV ] || exit 0; sleep 1; done; exit 1" 60) ||
		fail "the backend device stayed after its nodes were removed"
}

for held in ${HELD:-evtchn gntalloc gntdev backend}; do
	case $held in
	evtchn) held_by_tool evtchn 'hibernation refused: user space has event channels bound' ;;
	gntalloc) held_by_tool gntalloc 'hibernation refused: user space grants pages to other domains' ;;
	gntdev) held_by_tool gntdev 'hibernation refused: user space maps grants of other domains' ;;
	backend) held_backend 'hibernation refused: this domain runs backends for other domains' ;;
	*) fail "unknown HELD case $held" ;;
	esac
done

old=$(dom_id "$NAME")
hib_cycle "$NAME" || fail "hibernation failed once all was let go: $HIB_FAIL"
lab_log "off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create; domid $old, now $DOM_ID"
FIO_TIMEOUT=${S4_IO_TIMEOUT:-90} fio_verify "$NAME" 32M > /dev/null || fail "data not verified after the restore"
dom_destroy "$NAME"
