#!/usr/bin/env bash
# make check: every test of the project, each stage printing TAP, then one
# closing line "N passed, N failed, N skipped" over all of them.
#   1. series hygiene (scripts/check-series.sh)
#   2. KUnit suites of the series (scripts/kunit.sh)
#   3. the workbench's self-tests (scripts/selftests/), shellcheck
#   4. the lab's guest kernel and the Debian packages of the series (make deb)
#   5. lab scenarios on a real Xen hypervisor (lab/run-tests.sh)
# A stage that cannot run counts as one failure; "not ok ... # TODO" (a
# known, tracked failure) and "# SKIP" lines count as skipped.
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
# warm ccache, 45 cold; taken from $XH_CACHE/deb when the inputs are
# unchanged.  Under CI's budget a build that would leave less than 20
# minutes to the lab is stopped and reported as skipped: the s4-debian*
# scenarios then skip too (no packages).
debian_packages() {
	local limit=() left rc
	if [ -n "${CHECK_BUDGET_S:-}" ]; then
		left=$((CHECK_BUDGET_S - ($(date +%s) - start) - 1200))
		[ "$left" -gt 60 ] || left=1
		limit=(timeout "$left")
	fi
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

stage series "$TOP/scripts/check-series.sh"
# KUnit builds in build/linux (the series from patches/ on a fresh clone), so
# that it never races with check-series' worktree.
stage kunit "$TOP/scripts/kunit.sh"
stage workbench workbench_tests
stage shellcheck "$TOP/scripts/check-shell.sh"
if [ -x "$TOP/lab/run-tests.sh" ]; then
	stage kernel "$TOP/scripts/kernel.sh" guest
	stage deb debian_packages
	[ -n "${CHECK_BUDGET_S:-}" ] && export LAB_DEADLINE=$((start + CHECK_BUDGET_S))
	stage lab "$TOP/lab/run-tests.sh"
else
	echo "not ok - lab: lab/run-tests.sh missing"
	failed=$((failed + 1))
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
		grep -E '^# rig fault:|^(ok|not ok) [0-9]+' "$logdir/lab.tap" 2>/dev/null | sed 's/^/tap /'
		true
	} > "$f.new"
	mv "$f.new" "$f"
	# The newest 100 runs are kept.
	ls -1 "$dir"/*.txt 2>/dev/null | sort | head -n -100 | xargs -r rm -f
}

echo "# total time $(( $(date +%s) - start )) s"
# Faults of the rig (QEMU's nested SVM) that a retry or a repeat absorbed:
# each is a "# rig fault:" line of the lab's output (lab/README.md).
rig=$(grep -c '^# rig fault:' "$logdir/lab.tap" 2>/dev/null)
rig=${rig:-0}
echo "# rig faults absorbed: $rig"
record_run
# The failures again, last: a CI log is often read from its tail only.
[ -s "$logdir/failures" ] && sed 's/^/# FAILED /' "$logdir/failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
