#!/usr/bin/env bash
# The bench's report (lab/bench/report.py) from a recorded hibernation:
# every phase is read from the kernels' messages, and a console that lacks
# one of them, or an image written with another compressor than the run
# asked for, is refused rather than reported short.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"
data=$TOP/lab/bench/testdata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 failed=0
check() {	# check DESCRIPTION COMMAND...
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - bench report: $1"
	else echo "not ok $n - bench report: $1"; failed=$((failed + 1)); fi
}
report() {	# report [SED-ON-CONSOLE [SED-ON-RESULTS]]: run it on a copy
	rm -rf "$work/d" && cp -r "$data" "$work/d" || return 1
	sed -i "${1:-}" "$work"/d/*.console && sed -i "${2:-}" "$work/d/results.tsv" || return 1
	python3 "$TOP/lab/bench/report.py" "$work/d" > "$work/out" 2>&1
}
whole() {
	report && grep -q '^| write image | hibernating | [0-9.]* |$' "$work/d/report.md" &&
		grep -q '^| restore devices | restored | [0-9.]* |$' "$work/d/report.md" &&
		[ -s "$work/d/timeline.svg" ]
}
phase_missing() { ! report '/PM: Image saving done/d' && grep -q 'Image saving done' "$work/out"; }
clock_back() { ! report 's/\[ *10\.949433\] PM: Image saving done/[    9.000000] PM: Image saving done/' && grep -q 'clock went back' "$work/out"; }
other_compressor() { ! report '' 's/\tlzo\t/\tlz4\t/' && grep -q 'written with lzo, not lz4' "$work/out"; }
io_path() {
	report && grep -q '^| randread:4k:1 | IOPS | 1000 | 1005 | 0.99 | 1.02 | 1.00 | 0.99-1.02 |$' "$work/d/report.md" &&
		grep -q '^| tcp-256M | MiB/s | 20 | 20 | 1.00 | 0.95 | 0.97 | 0.95-1.00 |$' "$work/d/report.md"
}
# A second repeat whose xl save took twice as long: the ratio's median and range.
repeats() {
	rm -rf "$work/d" && cp -r "$data" "$work/d" || return 1
	awk -F'\t' 'NR > 1 { OFS = "\t"; $6 = 2; if ($7 == "xl") $8 = $8 * 2; print }' "$data/results.tsv" >> "$work/d/results.tsv" &&
		python3 "$TOP/lab/bench/report.py" "$work/d" > "$work/out" 2>&1 &&
		grep -q '^| 256 | idle | lzo | 2 | 0.93 | 0.74-1.11 | 0.05 | 0.05-0.05 |$' "$work/d/report.md"
}
# Two repeats each of one disk and of 16 (the recorded console, its device
# freeze set to 400 and 500 ms, then 1000 and 1200): 16 disks x2.44 the
# base's median, range 1000/500 to 1200/400.
devices_repeats() {
	local d ms rep=0 c
	rm -rf "$work/d" && mkdir -p "$work/d" || return 1
	head -n 1 "$data/results.tsv" > "$work/d/results.tsv"
	for d in 1:400 1:500 16:1000 16:1200; do
		ms=${d#*:} d=${d%:*} rep=$((rep % 2 + 1)) c=s4-$d-$rep.console
		sed "s/freeze of devices complete after 441.897/freeze of devices complete after $ms.000/" \
			"$data/s4-256-idle-lzo-1.console" > "$work/d/$c" || return 1
		printf '256\tidle\tlzo\t%s\t1\t%s\ts4\t9.4\t14.5\t14484\t%s\t10.0\n' "$d" "$rep" "$c" >> "$work/d/results.tsv"
	done
	python3 "$TOP/lab/bench/report.py" "$work/d" > "$work/out" 2>&1 &&
		grep -q '^| 16 | 1 | async | 2 | 1.20 | 2.67 | ' "$work/d/report.md" &&
		grep -q '^| 16 | 1 | async | 2 | 1.10 | 2.44 | 2.00-3.00 | 0.35 | 1.00 | 1.00-1.00 |$' "$work/d/report.md" &&
		grep -q '^| 1 | 1 | async | 2 | 0.45 | 1.00 | 0.80-1.25 | 0.35 | 1.00 | 1.00-1.00 |$' "$work/d/report.md"
}
check "every phase of a recorded hibernation" whole
check "devices over the repeats: x the base's median, and its range" devices_repeats
check "S4/xl over the repeats: median and range" repeats
check "the I/O path: series/stock per round, its median and range" io_path
check "a console without the end of the image write is refused" phase_missing
check "a phase whose clock went back is refused" clock_back
check "an image written with another compressor is refused" other_compressor
[ "$failed" = 0 ]
