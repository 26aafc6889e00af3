#!/usr/bin/env bash
# lab/rig-health.sh [VAR=value ...]: how often does the rig itself kill a
# domU?  A control run with no hibernation and none of the series' code
# paths in use: rounds of "create a guest, run the fio write+verify loop on
# its xvda for RIG_ROUND_S seconds, destroy it", the guest's type and vCPU
# count taking turns (PVH 1, PVH 2, HVM 1, HVM 2).  Every "Triple fault"
# that Xen prints is counted, with the phase it came in (boot: before the
# guest's @@READY, create retries included; run: fio running) and its
# signature (lab/lib/faults.sh; the guests boot with nokaslr, so that a
# guest RIP is named from System.map).
#
#   RIG_MINUTES   (20)       minutes of rounds for each variant
#   RIG_ROUND_S   (60)       seconds of fio per round
#   RIG_VARIANTS  ("native") variants of the guests, interleaved round by
#                            round so that they share one lab boot and its
#                            conditions:
#       native    the lab's guests (tsc_mode = "native")
#       tsc-default  tsc_mode = "default": Xen emulates RDTSC, every clock
#                 read of the guest exits to Xen
#       shadow    hap = 0: Xen shadows the guest's page tables instead of
#                 nested paging (needs a Xen built with shadow paging,
#                 which Debian's 4.17 is not)
#       debian    the stock Debian guest (lab/debian) with the series'
#                 kernel packages (make deb), fio on its xvdb
#       debian-stock  the same guest with Debian's own kernel of the same
#                 version, unpatched (its System.map is a stub: a guest RIP
#                 stays unnamed, guest:?)
#   RIG_DEBIAN_SHAPES ("pvh 2")  the Debian variants' guests, taking turns
# Besides triple faults, each oops or BUG a guest kernel printed is counted,
# as "oops:<what>:<rip>:<byte>:eflags-<flags>:irq-<irq>" (lab/lib/faults.sh).
# Variants of the machine (LAB_QEMU, LAB_QEMU_ACCEL, LAB_QEMU_CPU,
# LAB_XEN_ARGS_EXTRA) are measured by one run each.
#
# Report: a table on stdout and in build/lab/logs/rig-health/report.txt,
# one line per fault in faults.txt.  Exit status 0 when every round ran.
set -uo pipefail
for a in "$@"; do case $a in *=*) export "${a?}" ;; *) echo "usage: $0 [VAR=value ...]" >&2; exit 2 ;; esac; done
export LAB_SCENARIO=rig-health
. "$(dirname "$0")/lib/lab.sh"

minutes=${RIG_MINUTES:-20}
round_s=${RIG_ROUND_S:-60}
read -r -a variants <<< "${RIG_VARIANTS:-native}"
out=$LAB_SCEN_LOG
rm -f "$out"/faults.txt "$out"/rounds.txt "$out"/hvmctx-*.txt
# variant_cfg VARIANT: the xl config lines of a variant.
variant_cfg() {
	case $1 in
	native | tsc-default | debian | debian-stock) ;;
	shadow) echo 'hap = 0' ;;
	*) lab_die "unknown variant '$1'" ;;
	esac
}

for v in "${variants[@]}"; do variant_cfg "$v" >/dev/null; done

# debian_images VARIANT: the Debian guest's directory of a Debian variant.
debian_images() { echo "$LAB_BUILD/images/$1"; }

lab_lock
lab_on_exit lab_shutdown
lab_kill
# The Debian guests' disks, under the lock (a build replaces the directory).
for v in "${variants[@]}"; do
	case $v in
	debian) DEBIAN_IMAGES=$(debian_images "$v") debian_build ;;
	debian-stock) deb=$(debian_stock_deb) || exit 1; DEBIAN_IMAGES=$(debian_images "$v") debian_build "$deb" ;;
	esac
done
lab_boot
# Their copies in dom0, before the clock of the rounds starts.
for v in "${variants[@]}"; do
	case $v in debian*) (DEBIAN_IMAGES=$(debian_images "$v"); debian_prepare) >/dev/null ;; esac
done

# record_faults VARIANT SHAPE PHASE FROM TO [SYSTEM_MAP]: the triple faults
# Xen printed between two offsets of its serial log, one line each in
# faults.txt, with the event Xen was injecting (dom_destroy kept the state).
record_faults() {
	local v=$1 shape=$2 phase=$3 from=$4 to=$5 map=${6:-} line d id
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		d=${line%% *} id=${line#d}
		id=${id%%v*}
		line="$line $(hvmctx_event "$out/hvmctx-$id.txt" "${d#*v}")"
		printf '%s %s %s %s\n' "$v" "$shape" "$phase" "$line" >> "$out/faults.txt"
		lab_log "triple fault: $v $shape $phase: $line"
	done < <(tail -c +"$((from + 1))" "$LAB_RUN/serial.log" | head -c "$((to - from))" | rig_fault_lines "$map")
}

# record_oopses VARIANT SHAPE NAME: the oopses in NAME's console log, one
# line each in faults.txt (phase "run": the console does not say which).
record_oopses() {
	local what rip byte flags irq
	while read -r what rip byte flags irq; do
		printf '%s %s run - oops:%s:%s:%s:eflags-%s:irq-%s -\n' "$1" "$2" "$what" "$rip" "$byte" "$flags" "$irq" >> "$out/faults.txt"
		lab_log "oops: $1 $2: $what at $rip, byte before it $byte, flags $flags, interrupt $irq"
	done < <(dom_log "$3@round" | guest_oops_lines)
}

# one_round VARIANT TYPE VCPUS: create, fio for round_s seconds, destroy.
# Prints "ready ran_s" (ready: 1 when the guest reached @@READY; ran_s:
# seconds of fio with the domain alive).  Runs in a subshell of its own
# (debian_prepare's settings stay in it).
one_round() {
	local v=$1 type=$2 vcpus=$3 name=rig-$1 off0 off1 off2 ready=0 ran=0 t0 create=dom_create wait=300
	local -a cfg=()
	local DOM_TSC_MODE=${DOM_TSC_MODE:-native}
	[ "$v" = tsc-default ] && DOM_TSC_MODE=default
	mapfile -t cfg < <(variant_cfg "$v")
	dom_cursor "$name"	# a round whose create fails early reads no older console
	dom_cursor "$name" round	# every boot of the round, a retried one too (record_oopses)
	case $v in
	debian*)
		# shellcheck disable=SC2034 # for debian_prepare and debian_create
		DEBIAN_IMAGES=$(debian_images "$v")
		debian_prepare >/dev/null
		create=debian_create wait=$DOM_READY_TIMEOUT ;;
	esac
	off0=$(stat -c %s "$LAB_RUN/serial.log")
	if DOM_TYPE=$type DOM_READY_TIMEOUT=$wait DOM_CMDLINE_EXTRA=nokaslr $create "$name" "$vcpus" "${cfg[@]}" >/dev/null 2>&1; then
		ready=1
	fi
	off1=$(stat -c %s "$LAB_RUN/serial.log")
	if [ $ready = 1 ] && fio_start "$name" 16M >/dev/null; then
		t0=$SECONDS
		while [ $((SECONDS - t0)) -lt "$round_s" ] && dom_exists "$name"; do sleep 5; done
		ran=$((SECONDS - t0))
		dom_exists "$name" || lab_log "$name: gone after ${ran}s of fio"
	fi
	dom_destroy "$name"
	off2=$(stat -c %s "$LAB_RUN/serial.log")
	record_faults "$v" "$type/$vcpus" boot "$off0" "$off1" "$(dom_system_map "$name")"
	record_faults "$v" "$type/$vcpus" run "$off1" "$off2" "$(dom_system_map "$name")"
	record_oopses "$v" "$type/$vcpus" "$name"
	echo "$ready $ran"
}

shapes=("pvh 1" "pvh 2" "hvm 1" "hvm 2")
debian_shapes=()
while read -r a b; do debian_shapes+=("$a $b"); done < <(xargs -n 2 <<< "${RIG_DEBIAN_SHAPES:-pvh 2}")
declare -A rounds=() ready=() ran=() spent=()
for v in "${variants[@]}"; do rounds[$v]=0 ready[$v]=0 ran[$v]=0 spent[$v]=0; done
k=0
retries0=$(cat "$LAB_RUN/retries" 2>/dev/null | wc -l)
while :; do
	done_all=1
	for v in "${variants[@]}"; do
		[ "${spent[$v]}" -lt $((minutes * 60)) ] || continue
		done_all=0
		case $v in
		debian*) read -r type vcpus <<< "${debian_shapes[$((k % ${#debian_shapes[@]}))]}" ;;
		*) read -r type vcpus <<< "${shapes[$((k % ${#shapes[@]}))]}" ;;
		esac
		t0=$SECONDS
		read -r r s <<< "$(one_round "$v" "$type" "$vcpus")"
		lab_running || lab_die "the lab died (see $LAB_RUN/serial.log)"
		case "$r $s" in *[!0-9\ ]* | ' ') lab_die "round $v $type/$vcpus did not finish: '$r $s'" ;; esac
		spent[$v]=$((spent[$v] + SECONDS - t0))
		rounds[$v]=$((rounds[$v] + 1)) ready[$v]=$((ready[$v] + r)) ran[$v]=$((ran[$v] + s))
		printf '%s %s/%s ready=%s fio_s=%s wall_s=%s\n' "$v" "$type" "$vcpus" "$r" "$s" $((SECONDS - t0)) >> "$out/rounds.txt"
	done
	[ $done_all = 1 ] && break
	k=$((k + 1))
done

{
	echo "# rig-health $(date -u '+%F %T') UTC: $("$LAB_QEMU" --version | head -n 1) -accel $LAB_QEMU_ACCEL -cpu $LAB_QEMU_CPU, Xen $(awk '/^xen_version/ { print $3 }' "$LAB_RUN/xl-info.txt") ${LAB_XEN_ARGS_EXTRA:-}"
	echo "# rounds of ${round_s}s fio; create retries in this run: $(( $(cat "$LAB_RUN/retries" 2>/dev/null | wc -l) - retries0 ))"
	printf '%-8s %6s %6s %8s %7s %7s %7s %9s %s\n' variant rounds ready lab-min fio-min faults boot/run per-hour signatures
	for v in "${variants[@]}"; do
		n=$(awk -v v="$v" '$1 == v' "$out/faults.txt" 2>/dev/null | wc -l)
		nb=$(awk -v v="$v" '$1 == v && $3 == "boot"' "$out/faults.txt" 2>/dev/null | wc -l)
		sig=$(awk -v v="$v" '$1 == v { print $5 }' "$out/faults.txt" 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
		printf '%-8s %6s %6s %8s %7s %7s %7s %9s %s\n' "$v" "${rounds[$v]}" "${ready[$v]}" \
			"$(awk -v s="${spent[$v]}" 'BEGIN { printf "%.1f", s / 60 }')" \
			"$(awk -v s="${ran[$v]}" 'BEGIN { printf "%.1f", s / 60 }')" \
			"$n" "$nb/$((n - nb))" "$(awk -v n="$n" -v s="${spent[$v]}" 'BEGIN { printf "%.1f", s ? n * 3600 / s : 0 }')" "${sig:--}"
	done
	[ -s "$out/faults.txt" ] && { echo "# faults (variant shape phase domain signature rip event):"; sed 's/^/#   /' "$out/faults.txt"; }
} | tee "$out/report.txt"
# A variant whose guests never came up measured nothing.
for v in "${variants[@]}"; do
	[ "${ready[$v]}" -gt 0 ] || { echo "# variant $v: no guest came up (see $out/steps.log)"; exit 1; }
done
