#!/usr/bin/env bash
# make history [RUN=<file name or commit prefix>]: the runs of make check
# on this machine (fresh clones and CI's included), from the records
# scripts/check.sh leaves in $XH_CACHE/history: one line per run, oldest
# first, with its length, result, the lab's scenarios that ran again and
# the rig faults absorbed; RUN= prints one run's whole record.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

dir=$XH_CACHE/history
if [ -n "${RUN:-}" ]; then
	f=$(ls -1 "$dir"/*"$RUN"*.txt 2>/dev/null | tail -n 1)
	[ -n "$f" ] || die "no run matching '$RUN' in $dir"
	cat "$f"
	exit 0
fi
ls "$dir"/*.txt >/dev/null 2>&1 || { say "no runs recorded in $dir yet"; exit 0; }
printf '%-20s %-12s %3s %6s  %-34s %5s %6s %s\n' started commit ci min result lab-s reruns "rig faults absorbed"
for f in "$dir"/*.txt; do
	awk -v f="${f##*/}" '
	$1 == "commit" { c = substr($2, 1, 12) }
	$1 == "started" { t = $2 " " substr($3, 1, 5) }
	$1 == "seconds" { m = int($2 / 60 + 0.5) }
	$1 == "ci" { ci = ($2 == "no" ? "-" : "yes") }
	$1 == "result" { r = $2 " passed, " $4 " failed, " $6 " skipped" }
	$1 == "rig-faults" { n = $2 }
	$1 == "lab" && $2 == "total-wall-s" { lab = $3 }
	$1 == "tap" && /scenario rerun after a rig fault/ { rr++ }
	END { printf "%-20s %-12s %3s %6s  %-34s %5s %6d %s\n", t, c, ci, m, r, lab == "" ? "-" : lab, rr, n }' "$f"
done
