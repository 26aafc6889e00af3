#!/usr/bin/env bash
# s4-pm-test: hibernation with pm_test=devices, 10 times: every device is
# frozen and brought back without an image, against the same backend, while a
# fio write+verify loop runs on xvda.  After each round both ends of every disk
# must be Connected again (within 60 s: the reconnection completes when
# blkback answers); at the end the loop must report 0 verify errors and
# the log must carry blkfront's freeze/restore times (pm_print_times).
. "$(dirname "$0")/../lab/lib.sh"
ROUNDS=${PM_TEST_ROUNDS:-10}
lab_boot
dom_create pmt || fail "pmt did not become ready"
fio_start pmt 16M || fail "fio loop did not start"
for r in $(seq 1 "$ROUNDS"); do
	t=$(_now)
	out=$(dom_run pmt 'echo devices > /sys/power/pm_test || exit 90
echo disk > /sys/power/state; rc=$?
echo none > /sys/power/pm_test
exit $rc' 240) || fail "round $r: pm_test hibernation failed (rc=$?): $out"
	lab_metric "pm-test-$r-s" "$(_since "$t")"
	# Reconnection finishes asynchronously, when blkback answers: bounded wait.
	for vbd in 51712 51728 51744; do
		end=$((SECONDS + 60))
		while st=$(dom0_run -t 30 "xenstore-read /local/domain/$DOM_ID/device/vbd/$vbd/state /local/domain/0/backend/vbd/$DOM_ID/$vbd/state" | tr -s '\r\n' ' ')
			[ "$st" != "4 4 " ]; do
			[ $SECONDS -lt $end ] || fail "round $r: vbd $vbd frontend/backend states are '$st', not Connected after 60 s"
			sleep 1
		done
	done
	dom_run pmt 'cat /tmp/fio.count 2>/dev/null; true' 30 >/dev/null || fail "round $r: guest agent dead"
done
out=$(fio_stop pmt) || fail "fio loop reported errors: $out"
lab_log "fio loop passes/failures: $out"
times=$(dom_run pmt 'dmesg | grep -E "vbd-51712: .*(xenbus_dev_suspend|xenbus_frontend_dev_resume|xenbus_dev_cancel).* after [0-9]+ usecs" | tail -n 4' 30)
[ -n "$times" ] || fail "no pm_print_times lines for vbd-51712 in the guest log"
printf '%s\n' "$times" | sed 's/^/# /' >&2
dom_destroy pmt
