#!/usr/bin/env bash
# s4-console: the PV console (hvc0) after a hibernation restored on a new
# domain.  The lab drives guests through hvc0 only, so this scenario makes
# each direction explicit: a long typed line (several times the 1 KiB input
# ring) arrives intact (the guest checksums it), a burst of output several
# times the 2 KiB output ring arrives complete (dom0 counts and checksums
# it), kernel messages still reach the console, and the console's event
# channel interrupt is still delivered (its count in /proc/interrupts
# grows), so the console is not merely being polled.
# lab-min-s: 250
. "$(dirname "$0")/../lib/lab.sh"
NAME=console
LINES=${CONSOLE_LINES:-3000}
lab_boot
dom_create "$NAME" 1 || fail "$NAME did not become ready"

# The console's interrupt count; fails when the guest lists no hvc_console.
hvc_irqs() {
	local line
	line=$(dom_run "$NAME" 'grep hvc_console /proc/interrupts' 30) && [ -n "$line" ] || return 1
	_irq_total "$line"
}

# check WHEN: input, output, kernel messages and the interrupt count.
check() {
	local when=$1 i0 i1 pay sum got out n
	i0=$(hvc_irqs) && [ -n "$i0" ] || fail "$when: no hvc_console line in /proc/interrupts"
	# ~2.4 KB typed: 0-9a-f, so the line survives the tty untouched.
	pay=$(head -c 1200 /dev/urandom | od -An -tx1 | tr -d ' \n')
	sum=$(printf '%s' "$pay" | sha256sum | cut -d' ' -f1)
	got=$(dom_run "$NAME" "printf '%s' $pay | sha256sum | cut -d' ' -f1" 60) ||
		fail "$when: the long typed line got no answer"
	[ "$got" = "$sum" ] || fail "$when: typed ${#pay} characters, the guest read something else (sha256 $got, want $sum)"
	out=$(dom_run "$NAME" "seq 1 $LINES" 120) || fail "$when: output burst did not complete"
	n=$(grep -c . <<< "$out")
	[ "$n" = "$LINES" ] && [ "$(sed -n '$p' <<< "$out")" = "$LINES" ] &&
		[ "$(awk '{ s += $1 } END { print s }' <<< "$out")" = $((LINES * (LINES + 1) / 2)) ] ||
		fail "$when: $n of $LINES output lines arrived, or they were mangled"
	dom_run "$NAME" "echo '@@KMSG $when' > /dev/kmsg" 30 >/dev/null || fail "$when: cannot write to /dev/kmsg"
	dom_wait_marker "$NAME" "@@KMSG $when" 30 >/dev/null || fail "$when: a kernel message did not reach the console"
	i1=$(hvc_irqs)
	[ "${i1:-0}" -gt "$i0" ] || fail "$when: the console's interrupt count did not grow ($i0 -> $i1): events are not delivered"
	lab_log "$when: typed ${#pay} characters (sha256 ok), $LINES output lines, kernel message seen, hvc interrupts $i0 -> $i1"
}

check before
hib_cycle "$NAME" "check before" || fail "hibernation failed: $HIB_FAIL"
lab_log "resumed as domid $DOM_ID after ${HIB_T_RESUMED}s"
check after
dom_destroy "$NAME"
