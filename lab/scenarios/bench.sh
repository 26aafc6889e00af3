#!/usr/bin/env bash
# bench: what a hibernation costs next to Xen's own save/restore, measured
# side by side on the same guest with the same memory in use, and where a
# hibernation's time goes.  `make bench` runs it in full (lab/README.md,
# "Bench", says what and how); make check runs it small (one size, an idle
# guest, one repeat) so that it cannot rot, and fails only when a guest did
# not come back with its data or the kernel's messages no longer give every
# phase.
# Timings are never judged here: they are figures for the report.
#
# Each run of BENCH_RUNS, "MEM:LOAD:COMPRESSOR[:DISKS:VIFS[:PM]][@REPEATS]" (MiB; idle,
# or dirty: half the memory filled with random bytes in a tmpfs file; lzo,
# lz4 or none; without DISKS, the lab guest's three disks and one vif, else
# the swap disk and DISKS-1 small ones, and VIFS vifs; PM async, the
# kernel's own way, or sync: the PM core runs every device callback of the
# hibernating and the restored kernel in turn, /sys/power/pm_async 0, for
# comparison), REPEATS times (default BENCH_REPEATS): a
# fresh PVH guest is hibernated (echo disk) and restored on a new domain,
# then (the lab guest's disks only) saved and restored by xl; a checksum of
# what it holds is compared after each.  Results go to BENCH_OUT (default:
# this scenario's log directory): results.tsv, each hibernation's console,
# and the report (lab/bench/report.py: report.md and timeline.svg).
#
# Then, with BENCH_IO_ROUNDS above 0 (default 0), the I/O path: the Debian
# guest with Debian's own kernel (stock) and with the series' (make deb,
# the same configuration), each on a fresh boot, in turn, the order swapped
# every round: fio jobs on its data disk (BENCH_IO_JOBS, RW:BS:QD each, for
# BENCH_IO_SECONDS) and a TCP stream of BENCH_IO_NET_MIB MiB from dom0 over
# its vif.  Results in io.tsv; the report's part 4 gives series/stock.
# lab-min-s: 300
# lab-timeout-s: 900
. "$(dirname "$0")/../lib/lab.sh"
RUNS=${BENCH_RUNS:-256:idle:lzo}
REPEATS=${BENCH_REPEATS:-1}
OUT=${BENCH_OUT:-$LAB_SCEN_LOG/bench}
NAME=bench
rm -rf "$OUT"
mkdir -p "$OUT"
results=$OUT/results.tsv
printf 'mem_mib\tload\tcompressor\tdisks\tvifs\trepeat\tmethod\tdown_s\tup_s\tdisk_kib\tconsole\tcreate_at_s\tpm\n' > "$results"

# bench_cmdline COMPRESSOR: the kernel options that select it, with the
# kernel's time on each line and the PM core's phase times (pm_debug_messages
# prints them at KERN_DEBUG).
bench_cmdline() {
	case $1 in
	none) echo "printk.time=1 loglevel=8 hibernate=nocompress" ;;
	*) echo "printk.time=1 loglevel=8 hibernate.compressor=$1" ;;
	esac
}

# bench_load NAME MEM LOAD: what the guest holds, and its checksum (printed).
# The guest's /tmp is a tmpfs of half its memory at most: made larger first.
bench_load() {
	local mib=1
	[ "$3" = dirty ] && mib=$(($2 / 2))
	dom_run "$1" "mount -o remount,size=90% /tmp && dd if=/dev/urandom of=/tmp/held bs=1M count=$mib 2>/dev/null &&
		sha256sum /tmp/held | cut -d' ' -f1" 300
}

# bench_swap_kib NAME: KiB the guest's swap file has on dom0's disk (it starts
# sparse, so what grows is what the guest wrote).
bench_swap_kib() { dom0_run -t 30 "du -k /scratch/$1/swap.img | cut -f1" | tr -d '\r\n '; }

# bench_check NAME SUM WHEN: the guest answers and holds what it held.
bench_check() {
	local now
	now=$(dom_run "$1" 'sha256sum /tmp/held | cut -d" " -f1' 120) ||
		fail "$3: the guest does not answer"
	[ "$now" = "$2" ] || fail "$3: /tmp/held changed (sha256 $2, now $now)"
}

# bench_s4 NAME TAG SUM: one hibernation, restored on a new domain; a row
# of results and the console of that cycle.  Returns 2 when a fault of the
# rig's cost the cycle (hib_cycle): the guest's memory is gone, and a
# figure would mix two cycles, so the caller starts over.
bench_s4() {
	local name=$1 tag=$2 kib0 kib1 console=$OUT/s4-$2.console
	kib0=$(bench_swap_kib "$name")
	dom_cursor "$name" bench
	BENCH_RIG_REPEAT=
	if ! hib_cycle "$name" 'BENCH_RIG_REPEAT=1; false'; then
		[ -n "$BENCH_RIG_REPEAT" ] && return 2
		fail "$tag: hibernation failed: $HIB_FAIL"
	fi
	kib1=$(bench_swap_kib "$name")
	dom_log "$name@bench" > "$console"
	bench_check "$name" "$3" "$tag, after the hibernation"
	printf '%s\ts4\t%s\t%s\t%s\t%s\t%s\t%s\n' "$BENCH_KEY" "$HIB_T_OFF" "$HIB_T_RESUMED" \
		"$((kib1 - kib0))" "${console##*/}" "$HIB_T_CREATED" "$BENCH_PM" >> "$results"
}

# bench_xl NAME TAG SUM: xl save, then xl restore; down is the save, up the
# restore until the guest answers.
bench_xl() {
	local name=$1 tag=$2 t down up kib file=/scratch/save/$1.chk
	t=$(_now)
	dom0_run -t 600 "mkdir -p /scratch/save && xl save $name $file" >/dev/null || fail "$tag: xl save failed"
	down=$(_since "$t")
	kib=$(dom0_run -t 30 "du -k $file | cut -f1" | tr -d '\r\n ')
	t=$(_now)
	dom0_run -t 600 "xl restore $file" >/dev/null || fail "$tag: xl restore failed"
	bench_check "$name" "$3" "$tag, after xl save and restore"
	up=$(_since "$t")
	dom0_run -t 30 "rm -f $file" >/dev/null
	printf '%s\txl\t%s\t%s\t%s\t-\t-\t%s\n' "$BENCH_KEY" "$down" "$up" "$kib" "$BENCH_PM" >> "$results"
}

# bench_vifs N: the xl config line of N vifs on dom0's bridge.
bench_vifs() {
	local i l=
	for i in $(seq 1 "$1"); do l+="${l:+, }'bridge=xenbr0,mac=00:16:3e:5a:01:$(printf %02x "$i"),type=vif'"; done
	echo "vif = [ $l ]"
}

# bench_disks N MEM: DOM_DISKS and DOM_MAKE_DISKS of a guest with its swap
# disk (xvdb, MEM + 128 MiB) and N-1 disks of 16 MiB (xvda, xvdc on: the
# lab guest waits for xvda and xvdc at boot).
bench_disks() {
	local i letters=acdefghijklmnop
	BENCH_DISKS="xvdb swap.img"
	BENCH_MAKE_DISKS="rm -f ./*.img && truncate -s $(($2 + 128))M swap.img"
	for i in $(seq 2 "$1"); do
		BENCH_DISKS+=$'\n'"xvd${letters:i-2:1} d$i.img"
		BENCH_MAKE_DISKS+=" && truncate -s 16M d$i.img"
	done
}

# bench_one MEM LOAD COMP DISKS VIFS REP PM: a fresh guest, filled,
# hibernated, then (the lab guest's disks: DISKS "-") saved by xl; returns 2
# when a rig fault cost the hibernation.
bench_one() {
	local tag="$1-$2-$3-$6" sum
	[ "$4" = - ] || tag="$1-$2-$3-$4d$5v-$6"
	[ "$7" = async ] || tag="$1-$2-$3-$4d$5v-$7-$6"
	BENCH_PM=$7
	BENCH_KEY=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "$6")
	BENCH_DISKS='' BENCH_MAKE_DISKS=''
	[ "$4" = - ] || bench_disks "$4" "$1"
	DOM_MEM=$1 DOM_SWAP_MB=$(($1 + 128)) DOM_CMDLINE_EXTRA="$(bench_cmdline "$3")" \
		DOM_DISKS=$BENCH_DISKS DOM_MAKE_DISKS=$BENCH_MAKE_DISKS \
		dom_create "$NAME" 1 "$(bench_vifs "$5")" || fail "$tag: the guest did not boot"
	sum=$(bench_load "$NAME" "$1" "$2") || fail "$tag: filling the guest's memory failed"
	# The image keeps the setting: the restored kernel's devices follow it.
	[ "$7" = async ] || dom_run "$NAME" 'echo 0 > /sys/power/pm_async' >/dev/null ||
		fail "$tag: /sys/power/pm_async could not be cleared"
	lab_log "$tag: /tmp/held sha256 $sum"
	bench_s4 "$NAME" "$tag" "$sum" || return
	[ "$4" = - ] && bench_xl "$NAME" "$tag" "$sum"
	dom_destroy "$NAME"
}

IO_ROUNDS=${BENCH_IO_ROUNDS:-0}
IO_JOBS=${BENCH_IO_JOBS:-randread:4k:1 randread:4k:32 randwrite:4k:32 read:1M:8 write:1M:8}
IO_SECONDS=${BENCH_IO_SECONDS:-8}
IO_NET_MIB=${BENCH_IO_NET_MIB:-64}
if [ "$IO_ROUNDS" -gt 0 ]; then
	# Both guests' disks, before lab_boot (built on the host).
	DEBIAN_IMAGES=$LAB_BUILD/images/debian debian_build
	stock=$(debian_stock_deb) || fail "no Debian kernel package to compare with"
	DEBIAN_IMAGES=$LAB_BUILD/images/debian-stock debian_build "$stock"
	printf 'kernel\tround\tjob\tiops\tkib_s\n' > "$OUT/io.tsv"
fi

# bench_io_guest KERNEL ROUND: the Debian guest with KERNEL's packages
# (series or stock), booted afresh, runs each fio job of IO_JOBS on its
# data disk, then receives IO_NET_MIB MiB from dom0 over TCP; one io.tsv
# row each (the stream's row: its MiB/s as kib_s, no iops).  In a subshell:
# debian_prepare's settings stay there.
bench_io_guest() {
	local k=$1 r=$2
	(
		local name=bench-io job rw bs qd dir=debian t dt
		[ "$k" = series ] || dir=debian-stock
		# shellcheck disable=SC2034 # for debian_prepare and debian_create
		DEBIAN_IMAGES=$LAB_BUILD/images/$dir
		debian_prepare > /dev/null
		DOM_DATA_MB=512 debian_create "$name" 1 "$(net_vif)" || fail "I/O, $k #$r: the Debian guest did not boot"
		net_up "$name" > /dev/null || fail "I/O, $k #$r: the vif did not come up"
		for job in $IO_JOBS; do
			IFS=: read -r rw bs qd <<< "$job"
			dom_run "$name" "fio --name=io --filename=/dev/xvdb --direct=1 --ioengine=libaio --rw=$rw --bs=$bs \
				--iodepth=$qd --size=448M --time_based --runtime=$IO_SECONDS --output-format=json" \
				$((IO_SECONDS + 120)) > "$OUT/io-$k-$r-$job.json" || fail "I/O, $k #$r: fio $job failed"
			python3 - "$OUT/io-$k-$r-$job.json" "$k" "$r" "$job" >> "$OUT/io.tsv" <<'EOP' || fail "I/O, $k #$r: no figures in fio's output for $job"
import json, sys
text = open(sys.argv[1]).read()
job = json.loads(text[text.index('{'):])['jobs'][0]
side = job['write' if 'write' in sys.argv[4] else 'read']
print(f'{sys.argv[2]}\t{sys.argv[3]}\t{sys.argv[4]}\t{side["iops"]:.0f}\t{side["bw"]}')
EOP
		done
		# The guest's dd times the stream from the connection to its end
		# (nc -e: a listener reading stdin would close at its EOF).
		dom_run "$name" "rm -f /tmp/io-net.dd; printf '#!/bin/sh\ndd bs=64k of=/dev/null 2>/tmp/io-net.dd\n' > /tmp/io-recv.sh &&
			chmod +x /tmp/io-recv.sh && { $NET_NC -l -p 5002 -e /tmp/io-recv.sh </dev/null >/dev/null 2>&1 & } && echo listening" 30 > /dev/null ||
			fail "I/O, $k #$r: no listener in the guest"
		dom0_run -t 600 "head -c ${IO_NET_MIB}M /dev/zero | busybox nc $NET_GUEST_IP 5002" > /dev/null ||
			fail "I/O, $k #$r: the TCP stream failed"
		# dd's last line: "N bytes (...) copied, S s, R MB/s".
		dt=$(dom_run "$name" 'i=0; until grep -q copied /tmp/io-net.dd 2>/dev/null; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done
			tail -n 1 /tmp/io-net.dd' 90) || fail "I/O, $k #$r: the guest's receiver did not end"
		read -r t dt < <(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "bytes") b = $i; else if ($(i + 1) == "s,") s = $i }
			END { print b, s }' <<< "$dt")
		[ "$t" = $((IO_NET_MIB * 1048576)) ] || fail "I/O, $k #$r: the guest received $t bytes of $((IO_NET_MIB * 1048576))"
		printf '%s\t%s\ttcp-%sM\t-\t%s\n' "$k" "$r" "$IO_NET_MIB" \
			"$(awk -v b="$t" -v s="$dt" 'BEGIN { printf "%.0f", b / 1024 / s }')" >> "$OUT/io.tsv"
		lab_log "I/O, $k #$r: done, TCP ${IO_NET_MIB} MiB received in ${dt}s"
		dom_destroy "$name"
	) || exit 1
}

# bench_parse RUN: "mem load comp disks vifs pm repeats" of one BENCH_RUNS
# word, its defaults filled in; fails on a word it cannot take.
bench_parse() {
	local run=${1%@*} reps=$REPEATS mem load comp disks vifs pm
	case $1 in *@*) reps=${1##*@} ;; esac
	IFS=: read -r mem load comp disks vifs pm <<< "$run"
	case $mem:$load:$comp in
	[0-9]*:idle:lzo | [0-9]*:idle:lz4 | [0-9]*:idle:none | [0-9]*:dirty:lzo | [0-9]*:dirty:lz4 | [0-9]*:dirty:none) ;;
	*) fail "BENCH_RUNS: '$1' is not MEM:idle|dirty:lzo|lz4|none[:DISKS:VIFS[:async|sync]][@REPEATS]" ;;
	esac
	case ${disks:--}:${vifs:-1}:${pm:-async} in
	-:1:async | [1-9]:[0-9]:async | 1[0-6]:[0-9]:async | [1-9]:[0-9]:sync | 1[0-6]:[0-9]:sync) ;;
	*) fail "BENCH_RUNS: '$1': DISKS 1 to 16, VIFS 0 to 9 and PM async or sync, or none of them" ;;
	esac
	case $reps in [1-9]) ;; *) fail "BENCH_RUNS: '$1': REPEATS 1 to 9" ;; esac
	echo "$mem $load $comp ${disks:--} ${vifs:-1} ${pm:-async} $reps"
}

# Every word is checked before the first guest boots.
for run in $RUNS; do bench_parse "$run" > /dev/null; done
lab_boot
for run in $RUNS; do
	read -r mem load comp disks vifs pm reps < <(bench_parse "$run")
	for rep in $(seq 1 "$reps"); do
		until bench_one "$mem" "$load" "$comp" "$disks" "$vifs" "$rep" "$pm"; do
			lab_log "$run #$rep: a rig fault cost the hibernation; starting over"
		done
	done
done
for r in $(seq 1 "$IO_ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="stock series"; else order="series stock"; fi
	for k in $order; do bench_io_guest "$k" "$r"; done
done
python3 "$LAB_TOP/lab/bench/report.py" "$OUT" || fail "the report could not be made from $OUT (lab/bench/report.py)"
cat "$OUT/report.md"
