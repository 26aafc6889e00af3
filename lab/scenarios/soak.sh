#!/usr/bin/env bash
# soak: SOAK_N (5) consecutive hibernation cycles of one guest, each restored
# on a new domain, with a fio write+verify loop on xvda across all of them.
# After every cycle: the ext4 files written before each cycle keep their
# checksums, e2fsck -n passes on xvdc, and the fio loop has no failure.
# Per-cycle times go to build/lab/logs/soak/cycles.txt (printed by make
# soak).  SOAK_TYPE=hvm soaks an HVM guest.  `make soak N=100` runs it
# outside make check; make check runs the default 5 cycles.  A cycle ended
# by a rig fault is repeated from a fresh boot of the same disks (hib_cycle).
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
N=${SOAK_N:-5}
NAME=soak
export DOM_TYPE=${SOAK_TYPE:-$DOM_TYPE}
[ "$DOM_TYPE" = hvm ] && export DOM_READY_TIMEOUT=${DOM_READY_TIMEOUT:-300}
table=$LAB_SCEN_LOG/cycles.txt
lab_boot
dom_create "$NAME" 1 || fail "$NAME did not become ready"
fio_start "$NAME" 16M || fail "fio loop did not start"
# Every cycle adds a file to xvdc's ext4 and all of them are checked after
# every cycle: size them so that N cycles fit (1 MiB at most, in 64 KiB
# blocks), leaving a quarter of the free space.
free_k=$(dom_run "$NAME" "df -k /mnt/c | awk 'NR == 2 { print \$4 }'" 30)
case $free_k in ''|*[!0-9]*) fail "cannot read the free space of xvdc's ext4 ('$free_k')" ;; esac
blocks=$((free_k * 3 / 4 / N / 64))
[ "$blocks" -gt 16 ] && blocks=16
[ "$blocks" -ge 1 ] || fail "xvdc's ext4 has $free_k KiB free, too little for a file per cycle in $N cycles"
lab_log "xvdc: $free_k KiB free, $((blocks * 64)) KiB written per cycle"
printf '%-6s %-6s %-6s %8s %9s %7s %s\n' cycle domid old off-s resume-s total-s fio-passes > "$table"
for c in $(seq 1 "$N"); do
	t=$(_now)
	ext4_add_file "$NAME" "f$c" "$blocks" ||
		fail "cycle $c/$N: writing to the ext4 on xvdc failed ($(dom_run "$NAME" 'df -k /mnt/c | tail -n 1' 30))"
	old=$(dom_id "$NAME")
	hib_cycle "$NAME" 'fio_start "$NAME" 16M >/dev/null' || fail "cycle $c/$N: hibernation failed: $HIB_FAIL"
	ext4_check_files "$NAME"
	case $? in
	0) ;;
	124) fail "cycle $c/$N: guest stopped answering after the resume" ;;
	*) fail "cycle $c/$N: ext4 files changed across the hibernation" ;;
	esac
	ext4_fsck "$NAME" ||
		fail "cycle $c/$N: e2fsck -n /dev/xvdc reports errors (or xvdc would not mount again)"
	read -r passes fails <<< "$(fio_status "$NAME")"
	[ "${fails:-x}" = 0 ] || fail "cycle $c/$N: fio loop reports '${passes:-?} ${fails:-?}' (passes failures)"
	total=$(_since "$t")
	printf '%-6s %-6s %-6s %8s %9s %7s %s\n' "$c" "$DOM_ID" "$old" "$HIB_T_OFF" "$HIB_T_RESUMED" "$total" "$passes" >> "$table"
	lab_log "cycle $c/$N: domid $old -> $DOM_ID, off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, ${total}s in all, fio passes $passes"
done
out=$(fio_stop "$NAME") || fail "fio loop reported errors across the soak: $out"
stats() {	# column of cycles.txt -> "min median max"
	awk -v k="$1" 'NR > 1 && !/^#/ { print $k }' "$table" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
spread="min/median/max: off $(stats 4) s, resume $(stats 5) s, cycle $(stats 6) s"
printf '# %s/%s cycles passed; fio loop passes/failures: %s\n# %s\n' "$N" "$N" "$out" "$spread" >> "$table"
lab_log "soak: $N/$N cycles, fio $out; $(tail -n 1 "$table")"
lab_metric soak-cycles "$N"
dom_destroy "$NAME"
