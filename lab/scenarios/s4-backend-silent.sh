#!/usr/bin/env bash
# s4-backend-silent: blkback stops answering (unbound from xvda in dom0, its
# xenstore state left at Connected) before the guest hibernates.  The freeze
# must give up within xen_blkfront.freeze_timeout, hibernation must fail, and
# once the backend is bound again the disk must reconnect by itself, with the
# data written before intact.
. "$(dirname "$0")/../lib/lab.sh"
TIMEOUT=${SILENT_FREEZE_TIMEOUT:-5}
lab_boot
DOM_CMDLINE_EXTRA="xen_blkfront.freeze_timeout=$TIMEOUT" dom_create silent || fail "silent did not become ready"
fio_write silent 64M || fail "fio write failed"
be=vbd-$DOM_ID-51712
dom0_run -t 30 "echo -n $be > $VBD_DRIVER/unbind" || fail "cannot unbind $be in dom0"
lab_log "unbound $be; backend state $(dom0_run -t 30 "xenstore-read /local/domain/0/backend/vbd/$DOM_ID/51712/state")"
hib_must_abort silent "a silent backend" silent-abort-s
dom_run silent "dmesg | grep -E 'did not close within $TIMEOUT s'" 30 >/dev/null ||
	fail "blkfront did not report the backend timeout"
dom0_run -t 30 "echo -n $be > $VBD_DRIVER/bind" || fail "cannot bind $be again"
FIO_TIMEOUT=120 fio_verify silent 64M || fail "xvda does not work, or its data does not verify, after the backend came back"
st=$(xenbus_connected "$DOM_ID" vbd 51712) || fail "xvda frontend/backend states are '$st', not Connected"
dom_destroy silent
