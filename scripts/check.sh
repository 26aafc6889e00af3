#!/usr/bin/env bash
# make check: every test of the project, each stage printing TAP, then one
# closing line "N passed, N failed, N skipped" over all of them.
#   1. series hygiene (scripts/check-series.sh) and KUnit suites
#      (scripts/kunit.sh) of the primary base (kernel/bases/primary)
#   2. the workbench's self-tests (scripts/selftests/), shellcheck
#   3. the lab's guest kernel and the Debian packages of the series (make deb)
#   4. every lab scenario on a real Xen hypervisor (lab/run-tests.sh) on the
#      primary base's guest kernel
#   5. series hygiene and KUnit of every other base (kernel/bases/)
#   6. LAB_BASE_SUBSET of the lab on one other base, a different one on each
#      commit (ROTATED_BASE names it)
# That order is what a cold machine, whose builds take most of CI's budget,
# must reach first: the series hibernating on Xen.  On a warm one every
# stage but the lab takes seconds to minutes (kept results, lib.sh).
# Every test line of a stage that concerns a base names it ("ok 3 - 6.1:
# ...").  A stage that cannot run counts as one failure; "not ok ... # TODO"
# (a known, tracked failure) and "# SKIP" lines count as skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# CI stops a run after 90 minutes and a run that does not finish counts as
# failed: under CI, lab scenarios that could not finish within the budget are
# reported as skipped instead (see lab/run-tests.sh, LAB_DEADLINE).
if [ -n "${CI:-}" ]; then
	CHECK_BUDGET_S=${CHECK_BUDGET_S:-5040}
fi
logdir=$BUILD/check-logs
mkdir -p "$logdir"
rm -f "$logdir"/*.tap "$logdir/stages"
start=$(date +%s)
passed=0 failed=0 skipped=0
: > "$logdir/failures"

stage() {	# stage NAME COMMAND...
	local name=$1 t0 rc log=$logdir/$1.tap
	shift
	# Under CI's budget, a stage that starts too late is skipped, visibly.
	if [ -n "${CHECK_BUDGET_S:-}" ] && [ $(( $(date +%s) - start + ${STAGE_MIN_S:-600} )) -gt "$CHECK_BUDGET_S" ]; then
		echo "ok - $name # SKIP time budget of this run exhausted"
		echo "$name skipped: time budget of this run exhausted" >> "$logdir/stages"
		skipped=$((skipped + 1))
		return 0
	fi
	t0=$(date +%s)
	echo "# ---- $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | head -n 1)
	s=$(grep -cE '^(ok|not ok) [0-9]+.*# (SKIP|TODO)' "$log")
	f=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# TODO')
	p=$((p - $(grep -cE '^ok [0-9]+.*# (SKIP|TODO)' "$log")))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited $rc without reporting a failure"
		echo "$name: not ok - exited $rc without reporting a failure" >> "$logdir/failures"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	grep -E '^not ok' "$log" | grep -vE '# TODO' | sed "s/^/$name: /" >> "$logdir/failures"
	echo "# ---- $name: $p passed, $f failed, $s skipped in $(( $(date +%s) - t0 )) s"
	echo "$name $p passed, $f failed, $s skipped in $(( $(date +%s) - t0 )) s" >> "$logdir/stages"
}

# named BASE COMMAND...: COMMAND's TAP, each test line naming BASE.
named() {
	local b=$1
	shift
	"$@" | sed -u -E "s/^((not )?ok [0-9]+ - )/\1$b: /"
	return "${PIPESTATUS[0]}"
}

# budget_limit KEEP FLOOR: under CI's budget, "timeout N" that stops a
# command KEEP seconds before the budget ends (N at least FLOOR); nothing
# without a budget.
budget_limit() {
	local left
	[ -n "${CHECK_BUDGET_S:-}" ] || return 0
	left=$((CHECK_BUDGET_S - ($(date +%s) - start) - $1))
	echo "timeout $((left > $2 ? left : $2))"
}

# for_base BASE SCRIPT...: a workbench script on BASE.  The base's tree is
# made (make tree) only if the script has no kept results for it (lib.sh,
# cached_tap): a fresh clone needs no tree of a base whose series passed
# on this machine before.
# Under CI's budget the run stops where it would leave less than 10
# minutes (a cold machine's check-series of a second base takes half an
# hour), reported as skipped.
for_base() {
	local b=$1 rc limit
	shift
	BASE=$b XH_REPLAY_ONLY=1 "$@"
	rc=$?
	[ "$rc" -eq 3 ] || return "$rc"
	read -ra limit < <(budget_limit 600 60)
	BASE=$b "${limit[@]}" "$TOP/scripts/tree.sh"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		BASE=$b "${limit[@]}" "$@"
		rc=$?
	elif [ "$rc" -ne 124 ]; then
		echo "not ok 1 - make tree BASE=$b"
		return 1
	fi
	if [ "$rc" -eq 124 ]; then
		echo "ok 1 - ${1##*/} on $b # SKIP not finished within the time budget of this run"
		return 0
	fi
	return "$rc"
}

# guest_kernel BASE: scripts/guest-kernel.sh BASE, which under CI's budget
# may not eat the last 5 minutes.
guest_kernel() {
	local limit
	read -ra limit < <(budget_limit 300 1)
	"$TOP/scripts/guest-kernel.sh" "$1" "${limit[@]}"
}

workbench_tests() {
	local t rc=0
	for t in "$TOP"/scripts/selftests/planted-*.sh "$TOP"/scripts/selftests/tree-again.sh "$TOP"/scripts/selftests/mail-sets.sh \
		"$TOP"/scripts/selftests/bench-report.sh; do
		"$t" || rc=1
	done
	return $rc
}

# The series' kernel as Debian packages, for the lab's Debian guest
# (s4-debian*): built from Debian's cloud config, about 8 minutes with a
# warm ccache, 15 cold for mainline (2026-12-07); taken from
# $XH_CACHE/deb when the inputs are unchanged (seconds).  Under CI's
# budget a build that would leave the lab less than LAB_MIN_S is stopped
# (after a minute at least, which packages in the cache need) and
# reported as skipped: the s4-debian* scenarios then skip too.
debian_packages() {
	local limit rc
	read -ra limit < <(budget_limit "$LAB_MIN_S" 60)
	rm -f "$BUILD"/deb/*.deb
	"${limit[@]}" "$TOP/scripts/deb.sh"
	rc=$?
	case $rc in
	0) echo "ok 1 - make deb: $(cd "$BUILD/deb" && echo *.deb)" ;;
	124) echo "ok 1 - make deb # SKIP not finished within the time budget of this run" ;;
	*) echo "not ok 1 - make deb"; return 1 ;;
	esac
}

"$TOP/scripts/deps.sh" || die "installing dependencies failed"
# What is tested is patches/: build/linux is made from them again (make
# tree refuses when it holds work that make export has not written back).
"$TOP/scripts/tree.sh" || die "make tree failed: build/linux must be patches/ for make check"

# The bases: the primary one, then the others that have a series.  A base
# pinned but not ported yet, or whose pin says MAKE_CHECK=no (a series just
# ported, not yet through check-series and KUnit), is reported as skipped,
# never as passed.
others=()
for b in $(bases | grep -vxF "$PRIMARY_BASE"); do
	if [ -z "$(series_patches "$(series_dir_of "$b")")" ]; then
		echo "ok - $b # SKIP no series on this base yet ($(series_dir_of "$b")/series)"
		skipped=$((skipped + 1))
	elif grep -qx 'MAKE_CHECK=no' "$TOP/kernel/bases/$b.pin"; then
		echo "ok - $b # SKIP not in make check yet (kernel/bases/$b.pin: MAKE_CHECK=no)"
		skipped=$((skipped + 1))
	else
		others+=("$b")
	fi
done
# The other base whose guest kernel the lab runs LAB_BASE_SUBSET on: the
# next one with each commit, so that consecutive commits test each in turn.
ROTATED_BASE=${ROTATED_BASE-}
[ -n "$ROTATED_BASE" ] || [ ${#others[@]} -eq 0 ] ||
	ROTATED_BASE=${others[$(( $(git -C "$TOP" rev-list --count HEAD 2>/dev/null || echo 0) % ${#others[@]} ))]}
# What the lab runs on that base: the cycles of both guest types, netfront,
# queues, KASLR and Xen's own save/restore and migration (lab/README.md).
LAB_BASE_SUBSET=${LAB_BASE_SUBSET:-s4-pvh s4-hvm xl-save-restore xl-migrate s4-net s4-multiqueue s4-kaslr KASLR_CYCLES=3}
# What the stages after the primary base's lab cost, which its lab leaves
# to them under CI's budget (AFTER_LAB_S): that subset, 1110 s measured on
# 6.1 (2026-12-06), with a margin, and 600 s more when its guest kernel is
# to be built (510 s cold for 6.12 on 2026-12-07, less with ccache); an
# other base's check-series and KUnit that have no kept results, about 15
# and 5 minutes with a warm ccache (2026-12-07), twice that cold.
# LAB_MIN_S: what the primary base's lab gets in any case, even if what
# follows it is then skipped (on a cold machine, 25 minutes: the smoke
# test, the stock Debian guest, the lab guest's cycles, Xen's save/restore
# and migration and the first failure cases of lab/scenarios/order).
LAB_MIN_S=${LAB_MIN_S:-1500}
SERIES_COST_S=900 KUNIT_COST_S=300
# kept_on BASE SCRIPT: SCRIPT (check-series.sh, kunit.sh) has results kept
# for BASE: its stage takes seconds.
kept_on() { BASE=$1 XH_REPLAY_ONLY=1 "$TOP/scripts/$2" >/dev/null 2>&1; }
after_lab_cost() {
	local b s=0
	if [ -n "$ROTATED_BASE" ]; then
		s=1200
		"$TOP/scripts/guest-kernel.sh" --kept "$ROTATED_BASE" || s=$((s + 600))
	fi
	for b in "${others[@]}"; do
		kept_on "$b" check-series.sh || s=$((s + SERIES_COST_S))
		kept_on "$b" kunit.sh || s=$((s + KUNIT_COST_S))
	done
	echo "$s"
}
# other_base_stages BASE: its series-BASE and kunit-BASE.  Under CI's
# budget, a stage that has to build starts only if it can end 10 minutes
# before the budget does (for_base); one that replays kept results needs
# one minute.
other_base_stages() {
	local b=$1
	STAGE_MIN_S=$((600 + SERIES_COST_S)) other_base_stage "$b" series check-series.sh
	STAGE_MIN_S=$((600 + KUNIT_COST_S)) other_base_stage "$b" kunit kunit.sh
}
other_base_stage() {	# other_base_stage BASE NAME SCRIPT
	kept_on "$1" "$3" && local STAGE_MIN_S=60
	stage "$2-$1" named "$1" for_base "$1" "$TOP/scripts/$3"
}
AFTER_LAB_S=${AFTER_LAB_S:-$(after_lab_cost)}

# primary_lab_deadline: under CI's budget, the end of the primary base's
# lab: AFTER_LAB_S before the budget's end, but LAB_MIN_S from now at the
# earliest.
primary_lab_deadline() {
	local d=$((start + CHECK_BUDGET_S - AFTER_LAB_S)) now
	now=$(date +%s)
	[ "$d" -ge $((now + LAB_MIN_S)) ] || d=$((now + LAB_MIN_S))
	[ "$d" -le $((start + CHECK_BUDGET_S)) ] || d=$((start + CHECK_BUDGET_S))
	echo "$d"
}

stage "series-$PRIMARY_BASE" named "$PRIMARY_BASE" "$TOP/scripts/check-series.sh"
# KUnit builds in build/linux (the series from patches/ on a fresh clone), so
# that it never races with check-series' worktree.
stage "kunit-$PRIMARY_BASE" named "$PRIMARY_BASE" "$TOP/scripts/kunit.sh"
stage workbench workbench_tests
stage shellcheck "$TOP/scripts/check-shell.sh"
lab_ok=
[ -x "$TOP/lab/run-tests.sh" ] && lab_ok=1
if [ -n "$lab_ok" ]; then
	stage "kernel-$PRIMARY_BASE" named "$PRIMARY_BASE" guest_kernel "$PRIMARY_BASE"
	stage deb named "$PRIMARY_BASE" debian_packages
	[ -n "${CHECK_BUDGET_S:-}" ] && LAB_DEADLINE=$(primary_lab_deadline) && export LAB_DEADLINE
	stage "lab-$PRIMARY_BASE" named "$PRIMARY_BASE" "$TOP/lab/run-tests.sh"
else
	echo "not ok - lab: lab/run-tests.sh missing"
	failed=$((failed + 1))
fi
for b in "${others[@]}"; do
	other_base_stages "$b"
done
if [ -n "$lab_ok" ]; then
	if [ -n "$ROTATED_BASE" ]; then
		[ -n "${CHECK_BUDGET_S:-}" ] && export LAB_DEADLINE=$((start + CHECK_BUDGET_S))
		STAGE_MIN_S=300 stage "kernel-$ROTATED_BASE" named "$ROTATED_BASE" guest_kernel "$ROTATED_BASE"
		# Only on the kernel just built or taken from the cache: the one
		# an earlier run left in build/ may be of another series.
		if grep -q "^ok 1 - $ROTATED_BASE: guest kernel" "$logdir/kernel-$ROTATED_BASE.tap" 2>/dev/null; then
			# shellcheck disable=SC2086 # the subset is a list of words
			STAGE_MIN_S=300 stage "lab-$ROTATED_BASE" named "$ROTATED_BASE" \
				env BASE="$ROTATED_BASE" LAB_LOGS="$BUILD/lab/logs-$ROTATED_BASE" "$TOP/lab/run-tests.sh" $LAB_BASE_SUBSET
		else
			echo "ok - lab-$ROTATED_BASE # SKIP no guest kernel of $ROTATED_BASE (kernel-$ROTATED_BASE)"
			skipped=$((skipped + 1))
		fi
	fi
fi

# record_run: this run's record in $XH_CACHE/history (outside the clone,
# so that runs of fresh clones, CI's among them, add up on a machine):
# what was tested, how long each stage took, the lab's per-scenario times
# and rig faults, the failures.  scripts/history.sh reads them.
record_run() {
	local dir=$XH_CACHE/history f
	mkdir -p "$dir" || return 0
	f=$dir/$(date -u -d "@$start" +%Y%m%dT%H%M%SZ)-$(git -C "$TOP" rev-parse --short=12 HEAD 2>/dev/null || echo unknown).txt
	{
		echo "commit $(git -C "$TOP" rev-parse HEAD 2>/dev/null)$(git -C "$TOP" diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
		echo "started $(date -u -d "@$start" '+%F %T') UTC"
		echo "seconds $(( $(date +%s) - start ))"
		echo "ci ${CI:-no}"
		echo "result $passed passed, $failed failed, $skipped skipped"
		echo "rig-faults $rig"
		sed 's/^/stage /' "$logdir/stages" 2>/dev/null
		sed 's/^/failed /' "$logdir/failures"
		[ "$(stat -c %Y "$BUILD/lab/logs/summary.txt" 2>/dev/null || echo 0)" -lt "$start" ] ||
			sed 's/^/lab /' "$BUILD/lab/logs/summary.txt"
		[ -z "$ROTATED_BASE" ] || [ "$(stat -c %Y "$BUILD/lab/logs-$ROTATED_BASE/summary.txt" 2>/dev/null || echo 0)" -lt "$start" ] ||
			sed "s/^/lab-$ROTATED_BASE /" "$BUILD/lab/logs-$ROTATED_BASE/summary.txt"
		cat "$logdir"/lab-*.tap 2>/dev/null | grep -E '^# rig fault:|^(ok|not ok) [0-9]+' | sed 's/^/tap /'
		true
	} > "$f.new"
	mv "$f.new" "$f"
	# The newest 100 runs are kept.
	ls -1 "$dir"/*.txt 2>/dev/null | sort | head -n -100 | xargs -r rm -f
}

echo "# total time $(( $(date +%s) - start )) s"
# Faults of the rig (QEMU's nested SVM) that a retry or a repeat absorbed:
# each is a "# rig fault:" line of the lab's output (lab/README.md).
rig=$(cat "$logdir"/lab-*.tap 2>/dev/null | grep -c '^# rig fault:')
rig=${rig:-0}
echo "# rig faults absorbed: $rig"
record_run
# The failures again, last: a CI log is often read from its tail only.
[ -s "$logdir/failures" ] && sed 's/^/# FAILED /' "$logdir/failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
