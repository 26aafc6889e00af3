#!/usr/bin/env bash
# s4-pm-test: hibernation with pm_test=devices, 10 times: every device is
# frozen and brought back without an image, against the same backend, while a
# fio write+verify loop runs on xvda.  After each round both ends of every
# disk and of the vif must be Connected again (within 60 s: the reconnection
# completes when the backends answer); at the end the loop must report 0 verify errors and
# the log must carry blkfront's freeze/restore times (pm_print_times).
# Then pm_test=core, 3 times: the same, plus the syscore step, where the
# event channels of the timer and the IPIs are closed and bound anew; after
# each round the timer interrupt of every vCPU (2) must still count up.
# Then /sys/power/disk test_resume: the image is written to xvdb, read back
# and restored by the same kernel in the same domain, which quiesces its
# devices again after the thaw that followed the snapshot: the guest must
# come back on the same domain, its disks and its vif Connected, dom0
# answering over the vif.
# lab-min-s: 400
. "$(dirname "$0")/../lib/lab.sh"
ROUNDS=${PM_TEST_ROUNDS:-10}
CORE_ROUNDS=${PM_TEST_CORE_ROUNDS:-3}
lab_boot
dom_create pmt 2 "$(net_vif)" || fail "pmt did not become ready"
net_up pmt > /dev/null || fail "no ping answer from dom0 over the vif"
fio_start pmt 16M || fail "fio loop did not start"
# devices_connected WHEN: both ends of every disk and of the vif Connected
# (within 60 s: the reconnection completes when the backends answer).
devices_connected() {
	local st vbd
	for vbd in 51712 51728 51744; do
		st=$(xenbus_connected "$DOM_ID" vbd "$vbd" 60) ||
			fail "$1: vbd $vbd frontend/backend states are '$st', not Connected after 60 s"
	done
	st=$(xenbus_connected "$DOM_ID" vif 0 60) ||
		fail "$1: vif 0 frontend/backend states are '$st', not Connected after 60 s"
}
# pm_test_round MODE R: one hibernation stopped at MODE, then every device
# Connected again.
pm_test_round() {
	local mode=$1 r=$2 t out
	t=$(_now)
	out=$(dom_run pmt "echo $mode > /sys/power/pm_test || exit 90
echo disk > /sys/power/state; rc=\$?
echo none > /sys/power/pm_test
exit \$rc" 240) || fail "$mode round $r: pm_test hibernation failed (rc=$?): $out"
	lab_metric "pm-test-$mode-$r-s" "$(_since "$t")"
	devices_connected "$mode round $r"
	dom_run pmt 'cat /tmp/fio.count 2>/dev/null; true' 30 >/dev/null || fail "$mode round $r: guest agent dead"
}
for r in $(seq 1 "$ROUNDS"); do
	pm_test_round devices "$r"
done
# The per-CPU timer interrupts, "timer0 timer1" counts, twice a second apart.
timers='t() { awk "/timer[0-9]/ { printf \"%s \", \$2 + \$3 }" /proc/interrupts; }; t; sleep 1; echo; t; echo'
for r in $(seq 1 "$CORE_ROUNDS"); do
	pm_test_round core "$r"
	ticks=$(dom_run pmt "$timers" 30) || fail "core round $r: guest agent dead"
	set -- $ticks
	[ $# -eq 4 ] && [ "$3" -gt "$1" ] && [ "$4" -gt "$2" ] ||
		fail "core round $r: the timer interrupts of the 2 vCPUs do not count up any more: '$(echo $ticks)'"
	lab_log "core round $r: timer0 $1 -> $3, timer1 $2 -> $4 in 1 s"
done
t=$(_now)
out=$(dom_run pmt "echo test_resume > /sys/power/disk || exit 90
echo disk > /sys/power/state; rc=\$?
echo shutdown > /sys/power/disk
exit \$rc" 300) || fail "test_resume: hibernation failed (rc=$?): $out"
lab_metric "test-resume-s" "$(_since "$t")"
[ "$(dom_id pmt)" = "$DOM_ID" ] || fail "test_resume: the guest is on domain $(dom_id pmt), not $DOM_ID"
devices_connected test_resume
gap=$(net_ping_gap pmt) || fail "test_resume: dom0 does not answer over the vif: $gap"
out=$(fio_stop pmt) || fail "fio loop reported errors: $out"
lab_log "fio loop passes/failures: $out"
# The xenbus PM helpers' names: 6.1 and 6.12, then mainline's (c307b6dc9c4f).
times=$(dom_run pmt 'dmesg | grep -E "vbd-51712: .*(xenbus_dev_suspend|xenbus_frontend_dev_resume|xenbus_dev_cancel|xenbus_dev_freeze|xenbus_dev_thaw|xenbus_frontend_dev_restore).* after [0-9]+ usecs" | tail -n 4' 30)
[ -n "$times" ] || fail "no pm_print_times lines for vbd-51712 in the guest log"
printf '%s\n' "$times" | sed 's/^/# /' >&2
dom_destroy pmt
