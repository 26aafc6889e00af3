#!/usr/bin/env bash
# lab/demo.sh: boot the lab, run a PVH guest with fio I/O and a vif through
# one S4 (hibernate -> power off -> new domain resumes from xvdb) cycle and
# print a readable report: timeline, per-device PM callback times
# (pm_print_times), network back or not, data verified or not.  Exit status
# 0 only when the guest came back verified with its network.
set -u
export LAB_SCENARIO=demo LAB_SCEN_LOG=${LAB_SCEN_LOG:-$(cd "$(dirname "$0")/.." && pwd)/build/lab/logs/demo}
rm -rf "$LAB_SCEN_LOG"
. "$(dirname "$0")/lib/lab.sh"
export LAB_SCEN_LOG

T0=$(_now)
timeline=()
step() { timeline+=("$(printf '%8s  %s' "+$(_since "$T0")s" "$*")"); lab_log "$*"; }
verdict='' detail=''

report() {
	local log=$LAB_SCEN_LOG/s4-console.log
	echo
	echo "==================== Xen guest hibernation (S4) demo ===================="
	echo "guest kernel : $(strings "$LAB_BUILD/images/vmlinux" 2>/dev/null | grep -m1 '^Linux version' | cut -d' ' -f3)"
	echo "xen          : $(awk '/^xen_version/ { print $3 }' "$LAB_RUN/xl-info.txt" 2>/dev/null), dom0 $(awk '/^release/ { print $3 }' "$LAB_RUN/xl-info.txt" 2>/dev/null)"
	echo "logs         : ${LAB_SCEN_LOG#"$LAB_TOP"/}"
	echo
	echo "Timeline"
	printf '  %s\n' "${timeline[@]}"
	echo
	if [ -s "$log" ]; then
		echo "Hibernation / resume messages (guest console)"
		grep -a -E 'PM: (hibernation|Image|Creating|Saving|Loading|Read|Restoring|Basic|Preparing|Syncing|Freezing|Filesystems|Wrote|Using|Marking|resume|.*complete after)|Failed to release watch|Bad page state|blkfront|netfront|vif vif-|xenbus' "$log" | grep -v '@@' |
			grep -v -E 'progress: +[1-9]' | sed -E 's/^\[[0-9: .-]+\] //' | cut -c1-150 | head -n 60 | sed 's/^/  /'
		echo
		echo "PM callback times per device (pm_print_times, in order; callbacks >= ${PM_MIN_US:-1000} us)"
		grep -a -E 'returned -?[0-9]+ after [0-9]+ usecs' "$log" |
			sed -E 's/^\[[0-9: -]+\] //; s/^\[ *[0-9.]+\] //; s/^([^ ]+ [^ ]+): (PM: )?([^ ]+) returned (-?[0-9]+) after ([0-9]+) usecs.*/\5|\1|\3|\4/' |
			awk -F'|' -v min="${PM_MIN_US:-1000}" 'NF == 4 && $1 >= min { cb = $3; sub(/\+0x.*/, "", cb)
				printf "  %10.1f ms  %-26s %-30s rc=%s\n", $1 / 1000, $2, cb, $4 }'
		n=$(grep -a -c -E 'returned -?[0-9]+ after [0-9]+ usecs' "$log")
		echo "  ($n callbacks timed in all; full log: ${log#"$LAB_TOP"/})"
		ph=$(grep -a -E 'PM: .* (complete|done) after [0-9.]+ msecs' "$log" | sed -E 's/^\[[0-9: -]+\] //' | cut -c1-100)
		[ -z "$ph" ] || { echo "Phase totals"; printf '%s\n' "$ph" | sed 's/^/  /'; }
		echo
	fi
	echo "Result: $verdict${detail:+ ($detail)}"
	echo "========================================================================="
}

finish() {
	report
	[ "$verdict" = "DATA VERIFIED" ]
	exit $?
}

lab_lock
step "boot Xen + dom0 under QEMU/TCG"
lab_boot
step "dom0 ready (QEMU start -> ready ${LAB_DOM0_READY_S}s)"
dom_create demo 1 "$(net_vif)" || { verdict="NOT VERIFIED"; detail="guest did not boot"; finish; }
step "domU 'demo' ready, domid $DOM_ID (${DOM_READY_S}s after xl create)"
net_up demo >/dev/null || { verdict="NOT VERIFIED"; detail="no ping answer from dom0 over the vif"; finish; }
step "eth0 $NET_GUEST_IP: dom0 ($NET_DOM0_IP) answers ping over the vif"
fio_write demo 64M >/dev/null || { verdict="NOT VERIFIED"; detail="fio write failed"; finish; }
step "fio wrote a 64 MiB crc32c pattern on xvda"
fio_start demo 16M >/dev/null || { verdict="NOT VERIFIED"; detail="fio loop did not start"; finish; }
step "fio write+verify loop running (16 MiB passes)"
sleep 5
step "echo disk > /sys/power/state"
conlog=$LAB_RUN/console/guest-demo.log
s4off=$(stat -c %s "$conlog")
# Console from "echo disk" on (dom_log only shows what follows the last xl create).
s4log() { tail -c +"$((s4off + 1))" "$conlog" > "$LAB_SCEN_LOG/s4-console.log"; }
dom_hibernate_and_restore demo >/dev/null
new=$DOM_ID
s4log
case ${HIB_FAIL:-} in
'') step "domain powered off after ${HIB_T_OFF}s; new domain $new resumed ${HIB_T_RESUMED}s after its xl create" ;;
no-poweroff) step "domain did not power off"; verdict="NOT VERIFIED"; detail="no power-off after echo disk"; finish ;;
*) step "resume failed: $HIB_FAIL"; verdict="NOT VERIFIED"; detail="resume failed: $HIB_FAIL"; finish ;;
esac
if ! dom_run demo 'echo alive' 60 >/dev/null; then
	s4log
	step "guest agent does not answer after resume"
	verdict="NOT VERIFIED"; detail="detected wedge: console/agent dead after resume"; finish
fi
step "guest agent answers after resume"
if gap=$(net_ping_gap demo); then
	step "eth0: dom0 answers ping ${gap}s after the resume"
else
	step "eth0: no ping answer within 60 s of the resume"
	verdict="NOT VERIFIED"; detail="network did not come back"; finish
fi
out=$(FIO_TIMEOUT=120 fio_stop demo); rc=$?
s4log
if [ $rc = 124 ]; then
	step "fio loop did not finish within 120s"
	verdict="NOT VERIFIED"; detail="detected wedge: timeout on first I/O after resume"; finish
fi
step "fio loop stopped: passes/failures $(echo "$out" | head -n 1)"
FIO_TIMEOUT=120 fio_verify demo 64M > "$LAB_SCEN_LOG/verify.txt"; rc=$?
s4log
if [ $rc = 0 ] && [ "$(echo "$out" | head -n 1 | cut -d' ' -f2)" = 0 ]; then
	step "64 MiB pattern written before hibernation verified"
	verdict="DATA VERIFIED"
else
	step "verify failed (rc=$rc)"
	verdict="NOT VERIFIED"; detail="fio rc=$rc, loop: $(echo "$out" | head -n 1)"
	[ $rc = 124 ] && detail="detected wedge: timeout on first I/O after resume"
fi
dom_destroy demo
finish
