#!/usr/bin/env bash
# lab/run-tests.sh [--list] [name ...] [VAR=value ...]: run lab scenarios
# (lab/scenarios/<name>.sh; all of them, in the order of scenarios/order,
# when no name is given) against one fresh boot of Xen + dom0, printing TAP.
# --list prints the scenarios in that order.
#
#   ok N - name                       passed
#   ok N - name # SKIP reason         scenario cannot run here (exit 77)
#   not ok N - name # TODO reason     failed, but scenarios/expectations (or
#                                     S4_EXPECT=...) says it is expected to
#   not ok N - name                   failed: console tails follow as comments
#   Bail out! reason                  Xen/dom0 crashed or the lab would not boot
#
# LAB_DEADLINE (epoch seconds): skip, as "# SKIP", the scenarios that would
# start less than LAB_MIN_SCENARIO_S (150) seconds before it, or less than
# the N of a "# lab-min-s: N" line in the scenario (its longest run with a
# margin, for those that take longer); one that the deadline stops before its
# own time limit is reported as skipped too.
#
# Logs: build/lab/logs/<scenario>/ (steps.log, scenario.log, serial.log and
# guest-*.log slices), build/lab/logs/summary.txt (timings, retries, QEMU RSS).
# Exit status: 0 when every test is ok or TODO, 1 otherwise.
set -uo pipefail
. "$(dirname "$0")/lib/lab.sh"

SCEN=$LAB_DIR/scenarios
# Every scenario, in the order of scenarios/order, then the others.
all_scenarios() {
	{ sed 's/#.*//' "$SCEN/order"; ls "$SCEN" | sed -n 's/\.sh$//p' | sort; } |
		awk 'NF && !seen[$1]++ { print $1 }' | while read -r n; do [ -f "$SCEN/$n.sh" ] && echo "$n"; done
}

names=()
for a in "$@"; do
	case $a in
	--list) all_scenarios; exit 0 ;;
	*=*) export "${a?}" ;;
	*) a=${a##*/}; names+=("${a%.sh}") ;;
	esac
done
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(all_scenarios)
for n in "${names[@]}"; do
	[ -f "$SCEN/$n.sh" ] || lab_die "no scenario $n (lab/run-tests.sh --list names them)"
done
lab_lock

# scenario_setting NAME KEY: the N of the scenario's "# KEY: N" line.
scenario_setting() { sed -n "s/^# $2: *\([0-9][0-9]*\).*/\1/p" "$SCEN/$1.sh" | head -n 1; }

# Expected outcome of a scenario: "pass" or a reason it is expected to fail.
expectation() {
	local n=$1 e
	e=$(awk -v n="$n" '$1 == n { $1 = ""; sub(/^ +/, ""); print; exit }' "$SCEN/expectations" 2>/dev/null)
	case $n in s4-*) e=${S4_EXPECT:-${e:-pass}} ;; esac
	echo "${e:-pass}"
}

# Copy the part of a log written since the scenario started.
slice() { # src dst offset
	[ -e "$1" ] || return 0
	tail -c +"$(($3 + 1))" "$1" > "$2"
}

# run_scenario NAME: run scenarios/NAME.sh, slice the consoles into its log
# directory; sets rc and dt.
run_scenario() {
	local n=$1 f t0 ser_off
	rm -rf "$LAB_SCEN_LOG"; mkdir -p "$LAB_SCEN_LOG"
	ser_off=$(stat -c %s "$LAB_RUN/serial.log")
	declare -A con_off=()
	for f in "$LAB_RUN"/console/guest-*.log; do [ -e "$f" ] && con_off[$f]=$(stat -c %s "$f"); done
	t0=$SECONDS
	# LAB_SCENARIO_TIMEOUT, else the scenario's "# lab-timeout-s: N", else 900.
	limit=${LAB_SCENARIO_TIMEOUT:-$(scenario_setting "$n" lab-timeout-s)}
	limit=${limit:-900}
	# Under a deadline (CI's budget), no scenario may outlive it; budget_cut
	# says the deadline, not the scenario's own limit, would stop it.
	budget_cut=
	if [ -n "${LAB_DEADLINE:-}" ] && [ $((LAB_DEADLINE - $(date +%s))) -lt "$limit" ]; then
		budget_cut=$limit
		limit=$((LAB_DEADLINE - $(date +%s)))
		[ "$limit" -gt 60 ] || limit=60
	fi
	# timeout leads a process group of its own: its id, on record, lets
	# the next run stop a scenario that outlived a killed runner.  The
	# scenario does not inherit the lock (fd 9): the next run must get it.
	timeout -k 10 "$limit" bash "$SCEN/$n.sh" > "$LAB_SCEN_LOG/scenario.log" 2>&1 9>&- &
	echo $! > "$LAB_BUILD/scenario.pgid"
	wait $!
	rc=$?
	rm -f "$LAB_BUILD/scenario.pgid"
	dt=$((SECONDS - t0))
	# The state of a guest a triple fault left, for judging the faults.
	[ $rc = 99 ] || ! lab_running || dom_save_fault_state
	slice "$LAB_RUN/serial.log" "$LAB_SCEN_LOG/serial.log" "$ser_off"
	for f in "$LAB_RUN"/console/guest-*.log; do
		[ -e "$f" ] && slice "$f" "$LAB_SCEN_LOG/${f##*/}" "${con_off[$f]:-0}"
	done
	[ -e "$LAB_RUN/bailed" ] && rc=99
	lab_running || rc=99
}

# stop_orphan_scenario: the scenario of a killed run (its process group, on
# record in scenario.pgid) would go on driving the lab that this run is
# about to replace.
stop_orphan_scenario() {
	local g
	g=$(cat "$LAB_BUILD/scenario.pgid" 2>/dev/null) || return 0
	rm -f "$LAB_BUILD/scenario.pgid"
	case $g in '' | *[!0-9]*) return 0 ;; esac
	# Only if that id still leads the timeout of one of our scenarios.
	tr '\0' ' ' 2>/dev/null < "/proc/$g/cmdline" | grep -q "^timeout .* $SCEN/" || return 0
	lab_say "stopping scenario process group $g, left by a killed run"
	kill -TERM -- "-$g" 2>/dev/null
	sleep 2
	kill -KILL -- "-$g" 2>/dev/null
	return 0
}

# rig_events: how many rig faults this run absorbed so far (create
# retries, cycles repeated, scenarios rerun), one line each in retries.
rig_events() { cat "$LAB_RUN/retries" 2>/dev/null | wc -l; }

# each_guest_log LOG_DIR SEP CMD...: CMD's output for each console log of
# the scenario's guests, every line after the log's name and SEP.
each_guest_log() {
	local dir=$1 sep=$2 f
	shift 2
	for f in "$dir"/guest-*.log; do
		[ -e "$f" ] || continue
		"$@" < "$f" | sed "s/^/${f##*/}$sep/"
	done
}

# guest_oopses LOG_DIR: one line per oops of the scenario's guests,
# "<guest log> <what> <where> <byte> <flags> <irq>" (guest_oops_lines).
guest_oopses() { each_guest_log "$1" ' ' guest_oops_lines; }

# oops_text < console text: 60 lines from each of its first three "BUG:"
# or "Oops:" lines: the registers, code and trace that the one-line
# judgement (guest_oops_lines) leaves out.
oops_text() { tr -d '\r' | awk '/Oops: |BUG: / && !n && blocks++ < 3 { n = 60 } n { print; n-- }'; }

# guest_oops_text LOG_DIR: oops_text of each of the scenario's guests,
# "<guest log>: <line>".
guest_oops_text() { each_guest_log "$1" ': ' oops_text; }

# oops_calls < console text: for each of its first three "Oops:" lines, the
# first eight reliable frames of the trace after it, callee first, on one
# line: a CI log keeps the TAP output only, not the guest's console.
oops_calls() {
	tr -d '\r' | awk '
	/Oops: / { if (f != "") print f; f = (++n <= 3) ? "calls:" : ""; k = 0; next }
	f != "" && k < 8 {
		l = $0; sub(/^(\[[^]]*\] *)+/, "", l); sub(/^ +/, "", l)
		if (l ~ /^[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[^]]*\])?$/) { sub(/\/.*/, "", l); f = f " " l; k++ }
	}
	END { if (f != "") print f }'
}

# Leave no domU behind for the next scenario.
destroy_domus() {
	DOM0_QUIET=1 dom0_run -t 120 'for d in $(xl list | awk "NR > 2 { print \$1 }"); do xl destroy "$d"; done; true' >/dev/null 2>&1
}

mkdir -p "$LAB_LOGS"
summary=$LAB_LOGS/summary.txt
wall0=$SECONDS
echo "1..${#names[@]}"
export LAB_RUNNER=1 LAB_SCENARIO=boot LAB_SCEN_LOG=$LAB_LOGS/boot
rm -rf "$LAB_SCEN_LOG"; mkdir -p "$LAB_SCEN_LOG"
# LAB_KEEP=1 leaves the lab up at the end (lab/sh runs commands in it).
[ -n "${LAB_KEEP:-}" ] || lab_on_exit lab_shutdown
# A lab left up by an earlier run (killed, or LAB_KEEP) is not this run's,
# nor a scenario that outlived its runner: this runner holds the lock, so
# nobody else is using them.
stop_orphan_scenario
lab_kill
if ! (lab_boot) > "$LAB_SCEN_LOG/boot.log" 2>&1; then
	tail -n 30 "$LAB_SCEN_LOG/boot.log" | sed 's/^/# /'
	grep -q '^Bail out!' "$LAB_SCEN_LOG/boot.log" || echo "Bail out! lab did not boot (see $LAB_SCEN_LOG/boot.log)"
	exit 1
fi
{
	echo "# lab run $(date -u '+%F %T') UTC, guest kernel $(strings "$LAB_BUILD/images/vmlinux" 2>/dev/null | grep -m1 '^Linux version' | cut -d' ' -f3)"
	echo "dom0-ready-s $(cat "$LAB_RUN/dom0.ready.s")"
} > "$summary"
echo "# dom0 ready after $(cat "$LAB_RUN/dom0.ready.s")s"

i=0 failed=0
for n in "${names[@]}"; do
	i=$((i + 1))
	# make check under CI has a wall-clock budget (LAB_DEADLINE, epoch s):
	# a scenario that could not finish in time is skipped, visibly.
	# A scenario may declare a longer need in a "# lab-min-s: N" line.
	need=$(scenario_setting "$n" lab-min-s)
	[ "${need:-0}" -gt "${LAB_MIN_SCENARIO_S:-150}" ] || need=${LAB_MIN_SCENARIO_S:-150}
	if [ -n "${LAB_DEADLINE:-}" ] && [ $(( $(date +%s) + need )) -gt "$LAB_DEADLINE" ]; then
		echo "ok $i - $n # SKIP time budget of this run exhausted"
		echo "$n skipped (time budget)" >> "$summary"
		continue
	fi
	export LAB_SCENARIO=$n LAB_SCEN_LOG=$LAB_LOGS/$n
	rm -rf "$LAB_SCEN_LOG".attempt*
	r0=$(rig_events)
	attempt=1 norerun='' notime=''
	while :; do
		ra=$(rig_events)
		run_scenario "$n"
		# A failure with rig faults only, more than this run absorbed
		# itself, runs again (scenario_rerun_faults): a rerun can meet one
		# too (s4-clock, 26 s long, once faulted in both of its runs).
		# Not when the scenario met LAB_MAX_SCENARIO_RIG_FAULTS (6)
		# already, more than the rig's rate explains, nor when the time
		# budget has no room for another run: that is reported as
		# skipped, with the faults.
		tf=$(scenario_rerun_faults "$LAB_SCEN_LOG" "$(tail -n +"$((ra + 1))" "$LAB_RUN/retries" 2>/dev/null)" "$rc" "$attempt") || break
		if [ $(($(rig_events) - r0)) -ge "${LAB_MAX_SCENARIO_RIG_FAULTS:-6}" ]; then
			norerun="not run again: $(($(rig_events) - r0)) rig faults absorbed in this scenario already, then $tf"
			break
		fi
		if [ -n "${LAB_DEADLINE:-}" ] && [ $(( $(date +%s) + need )) -gt "$LAB_DEADLINE" ]; then
			notime="rig fault ($tf) and no time left in this run's budget to run it again"
			break
		fi
		why=$(head -n 1 "$LAB_SCEN_LOG/reason" 2>/dev/null)
		echo "$(date -u +%T) $n: scenario rerun after a rig fault (attempt $attempt${why:+, failed: $why}): $tf" >> "$LAB_RUN/retries"
		mv "$LAB_SCEN_LOG" "$LAB_SCEN_LOG.attempt$attempt"
		destroy_domus
		attempt=$((attempt + 1))
	done
	# Every fault absorbed by a retry or a repeat is said in the TAP output.
	tail -n +"$((r0 + 1))" "$LAB_RUN/retries" 2>/dev/null | sed 's/^[0-9:]* */# rig fault: /'
	# Stopped by the budget before its own limit (timeout's TERM, or its
	# KILL 10 s later): not judged, and said so, with where it was (a
	# scenario's lab-min-s keeps this rare).
	if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ -n "$budget_cut" ] && [ "$dt" -ge $((limit - 1)) ]; then
		notime="stopped after ${dt}s by this run's time budget, before its own limit of ${budget_cut}s"
		tail -n 5 "$LAB_SCEN_LOG/scenario.log" | sed 's/^/#   /'
	fi
	if [ -n "$notime" ]; then
		echo "ok $i - $n # SKIP $notime"
		echo "$n skipped ($notime)" >> "$summary"
		destroy_domus
		continue
	fi
	exp=$(expectation "$n")
	reason=$(head -n 1 "$LAB_SCEN_LOG/reason" 2>/dev/null)
	[ $rc = 124 ] && reason="scenario timeout (${limit}s)${reason:+: $reason}"
	[ -z "$norerun" ] || reason="${reason:+$reason; }$norerun"
	echo "$n ${dt}s rc=$rc" >> "$summary"
	[ -f "$LAB_SCEN_LOG/metrics" ] && sed "s/^/$n: /" "$LAB_SCEN_LOG/metrics" >> "$summary"
	if [ $rc = 0 ]; then
		if [ "$exp" = pass ]; then
			echo "ok $i - $n"
		else
			echo "ok $i - $n # TODO $exp"
			echo "# $n passed although expected to fail ($exp): update lab/scenarios/expectations / S4_EXPECT"
		fi
	elif [ $rc = 77 ]; then
		echo "ok $i - $n # SKIP $(head -n 1 "$LAB_SCEN_LOG/skip" 2>/dev/null)"
	elif [ "$exp" != pass ] && [ $rc != 99 ]; then
		echo "not ok $i - $n # TODO ${reason:-failed} (expected: $exp)"
	else
		failed=$((failed + 1))
		echo "not ok $i - $n${reason:+: $reason}"
		# Each guest oops, as the rig's faults are judged (what, where,
		# the code byte before RIP, the frame's flags, an interrupt taken
		# with interrupts off), and its text, kept in the summary too: a
		# CI clone's logs do not outlive it.
		guest_oopses "$LAB_SCEN_LOG" | sed "s/^/$n oops /" | tee -a "$summary" | sed 's/^/# guest /'
		each_guest_log "$LAB_SCEN_LOG" ' ' oops_calls | sed 's/^/# guest /'
		guest_oops_text "$LAB_SCEN_LOG" | sed "s/^/$n oops-text /" >> "$summary"
		{
			echo "scenario output (last 40 lines): $LAB_SCEN_LOG/scenario.log"
			tail -n 40 "$LAB_SCEN_LOG/scenario.log" | sed 's/^/  /'
			[ $rc = 99 ] || lab_tails 25 "$LAB_SCEN_LOG"
		} | sed 's/^/# /'
	fi
	echo "#   ${dt}s, logs: ${LAB_SCEN_LOG#"$LAB_TOP"/}"
	if [ $rc = 99 ]; then
		echo "Bail out! $(cat "$LAB_RUN/bailed" 2>/dev/null || echo 'lab died')"
		grep -a -m3 -E "$LAB_CRASH_RE" "$LAB_RUN/serial.log" | sed 's/^/# /'
		exit 1
	fi
	destroy_domus
done
rss=$(lab_rss)
echo "qemu-rss-mib $rss" >> "$summary"
retries=$(rig_events)
echo "rig-faults-absorbed $retries" >> "$summary"
sed 's/^/retry: /' "$LAB_RUN/retries" >> "$summary" 2>/dev/null
echo "total-wall-s $((SECONDS - wall0))" >> "$summary"
echo "# total $((SECONDS - wall0))s, QEMU peak RSS ${rss} MiB, rig faults absorbed (create retries, cycles repeated, scenarios rerun): $retries, summary: ${summary#"$LAB_TOP"/}"
[ $failed = 0 ]
