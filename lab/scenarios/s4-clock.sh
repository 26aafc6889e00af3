#!/usr/bin/env bash
# s4-clock: the guest's clocks across a hibernation restored on a new
# domain.  clockwatch (lab/guest/tools/clockwatch.c), a CPU-bound task that
# never sleeps, runs across the cycle and must see CLOCK_MONOTONIC never go
# back and no CPU's steal time in /proc/stat decrease.  Right after the
# resume it must keep being scheduled (its status file advances), it must
# be charged CPU time while steal time does not swallow the whole window
# (a steal clock that jumps makes the tick code charge every tick to
# steal), and the guest's wall clock must still agree with dom0's.
# Two vCPUs by default (CLOCK_VCPUS): the second one comes back after the
# restore through CPU hotplug, re-registering its own runstate area.
. "$(dirname "$0")/../lib/lab.sh"
NAME=clock
WINDOW=3
lab_boot
dom_create "$NAME" "${CLOCK_VCPUS:-2}" || fail "$NAME did not become ready"
status() { dom_run "$NAME" 'cat /tmp/cw.status' 30; }
field() { sed -n "s/.*\\b$1=\\([0-9-]*\\).*/\\1/p" <<< "$2"; }
# window: over WINDOW seconds, "<clockwatch's CPU ticks> <steal ticks> <ticks available>".
window() {
	dom_run "$NAME" "p=\$(cat /tmp/cw.pid); n=\$(grep -c '^cpu[0-9]' /proc/stat)
cpu() { set -- \$(cut -d' ' -f14,15 /proc/\$p/stat); echo \$((\$1 + \$2)); }
steal() { awk '/^cpu / { print \$9 }' /proc/stat; }
c0=\$(cpu); s0=\$(steal); sleep $WINDOW; c1=\$(cpu); s1=\$(steal)
echo \$((c1 - c0)) \$((s1 - s0)) \$(($WINDOW * 100 * n))" 60
}

# before: start clockwatch and take the state the cycle is judged against
# (again after a fresh boot, when a rig fault made hib_cycle repeat it).
before() {
	dom_run "$NAME" 'clockwatch /tmp/cw.status 2>/tmp/cw.err & echo $! > /tmp/cw.pid; i=0
until [ -s /tmp/cw.status ]; do i=$((i+1)); [ $i -ge 50 ] && exit 1; sleep 0.1; done' 30 ||
		fail "clockwatch did not start"
	read -r c s avail <<< "$(window)"
	lab_log "before: clockwatch charged $c ticks, steal $s ticks, of $avail"
	[ "${c:-0}" -gt 0 ] || fail "clockwatch was charged no CPU time before the hibernation ($c $s $avail)"
	off0=$(dom_wall_offset "$NAME") || fail "cannot read the wall clocks"
	st0=$(status)
	lab_log "before: wall clock offset to dom0 ${off0}s; $st0"
}

before
hib_cycle "$NAME" before || fail "hibernation failed: $HIB_FAIL"
lab_log "resumed as domid $DOM_ID after ${HIB_T_RESUMED}s"
st1=$(status)
read -r c s avail <<< "$(window)"
st2=$(status)
lab_log "after: clockwatch charged $c ticks, steal $s ticks, of $avail"
lab_log "after: $st1"
lab_log "after ${WINDOW}s: $st2"
off1=$(dom_wall_offset "$NAME") || fail "cannot read the wall clocks after the restore"
lab_log "after: wall clock offset to dom0 ${off1}s (before ${off0}s)"
lab_metric clock-steal-ticks-after "$s"
lab_metric clock-task-ticks-after "$c"

[ "$(field updates "$st2")" -gt "$(field updates "$st1")" ] ||
	fail "clockwatch was not scheduled after the resume (status did not advance in ${WINDOW}s)"
[ "$(field updates "$st1")" -gt "$(field updates "$st0")" ] || fail "clockwatch's status did not advance across the cycle"
[ "$(field backwards "$st2")" = 0 ] ||
	fail "CLOCK_MONOTONIC went back $(field backwards "$st2") time(s), by up to $(field max_back_ns "$st2") ns"
[ "$(field steal_decreases "$st2")" = 0 ] ||
	fail "steal time in /proc/stat decreased $(field steal_decreases "$st2") time(s): $(dom_run "$NAME" 'head -n 3 /tmp/cw.err' 30 | tr '\n' ' ')"
[ "$(field steal "$st2")" -ge "$(field steal "$st0")" ] || fail "steal time went from $(field steal "$st0") to $(field steal "$st2") ticks"
[ "${c:-0}" -gt 0 ] || fail "clockwatch was charged no CPU time in ${WINDOW}s after the resume (steal $s of $avail ticks)"
[ "${s:-0}" -lt "$avail" ] || fail "steal time took all $avail ticks of the ${WINDOW}s after the resume ($s)"
d=$((off1 - off0)); d=${d#-}
[ "$d" -le 5 ] || fail "the wall clock moved ${d}s against dom0's across the cycle (offset ${off0}s before, ${off1}s after)"
dom_destroy "$NAME"
