#!/usr/bin/env bash
# s4-baseline: hibernate a PVH domU (echo disk, image on xvdb), the domain
# powers off, a NEW domain from the same config resumes from xvdb, the fio
# pattern written before hibernation verifies afterwards.
# Strict: it fails unless the guest really came back (new domid, agent alive,
# data verified).  Whether that failure is expected (TAP TODO) is decided by
# lab/scenarios/expectations or S4_EXPECT (run-tests.sh).
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom_create s4 || fail "s4 did not become ready"
fio_write s4 64M || fail "fio write failed"
fio_verify s4 64M || fail "fio verify before hibernation failed"
old=$DOM_ID
hib_cycle s4
new=$DOM_ID
case ${HIB_FAIL:-} in
'') ;;
no-poweroff) fail "domain did not power off after echo disk" ;;
crashed) fail "domain crashed while hibernating" ;;
no-resume) fail "no resume: the new domain booted fresh instead of resuming" ;;
resume-timeout) fail "detected wedge: resumed guest never answered" ;;
*) fail "hibernate/restore failed: $HIB_FAIL" ;;
esac
lab_metric s4-poweroff-s "$HIB_T_OFF"
lab_metric s4-resume-s "$HIB_T_RESUMED"
lab_log "old domid $old, new domid $new"
dom_run s4 'echo alive' 60 >/dev/null || fail "detected wedge: guest agent dead after resume"
FIO_TIMEOUT=${S4_IO_TIMEOUT:-90} fio_verify s4 64M
rc=$?
[ $rc = 124 ] && fail "detected wedge: timeout on first I/O"
[ $rc = 0 ] || fail "data not verified after resume (fio rc=$rc)"
dom_run s4 'dd if=/dev/xvdc of=/dev/null bs=64k count=16 && echo xvdc ok' 60 || fail "xvdc I/O failed after resume"
dom_destroy s4
