#!/usr/bin/env bash
# s4-pvh: three real hibernation cycles of a PVH guest.  Each time the domain
# powers off and a NEW domain restores the image from xvdb.  A fio
# write+verify loop runs on xvda across all cycles (0 verify errors); files
# written to the ext4 on xvdc before each cycle keep their checksums, and the
# filesystem passes e2fsck -n at the end; the write-through setting given
# to xvdc is kept; xenbus logs no warning.  A cycle ended by a rig fault is
# repeated from a fresh boot of the same disks (lab/lib/hib.sh, hib_cycle).
# S4_DISK_MODE: the hibernation mode (/sys/power/disk) instead of the lab
# init's "shutdown"; s4-hvm uses "platform", the kernel's default where
# ACPI offers S4, as it does to HVM guests.
# lab-min-s: 250
. "$(dirname "$0")/../lib/lab.sh"
CYCLES=${S4_CYCLES:-3}
VCPUS=${S4_VCPUS:-1}
NAME=${S4_NAME:-pvh}
lab_boot
dom_create "$NAME" "$VCPUS" || fail "$NAME did not become ready"
rings=$(dom_run "$NAME" 'ls /sys/block/xvda/mq | wc -l' 30)
lab_log "xvda has $rings hardware queue(s)"
[ -z "${S4_MIN_RINGS:-}" ] || [ "$rings" -ge "$S4_MIN_RINGS" ] || fail "xvda has $rings rings, want >= $S4_MIN_RINGS"
# disk_mode: select S4_DISK_MODE, if set, in the running kernel.
disk_mode() {
	[ -n "${S4_DISK_MODE:-}" ] || return 0
	local modes
	modes=$(dom_run "$NAME" "echo $S4_DISK_MODE > /sys/power/disk; cat /sys/power/disk" 30)
	case " $modes " in
	*" [$S4_DISK_MODE] "*) ;;
	*) fail "cannot select hibernation mode $S4_DISK_MODE: /sys/power/disk says '$modes'" ;;
	esac
}
disk_mode
fio_start "$NAME" 16M || fail "fio loop did not start"
write_through "$NAME" xvdc || fail "cannot make xvdc write-through"
# HVM: the ACPI interrupt, a physical IRQ, works before and after each
# cycle, Xen has a PIRQ channel for each IRQ the guest started, no more,
# and the virtual keyboard is Connected.
sci() {
	[ "$DOM_TYPE" = hvm ] || return 0
	local out
	out=$(dom_sci_check "$NAME") || fail "$1: $out"
	lab_log "$1: ACPI interrupts $out after the power button"
	out=$(dom_pirq_check "$NAME") || fail "$1: PIRQ event channels and started IRQs differ: $out"
	lab_log "$1: PIRQ event channels: $out"
	# The keyboard xl gives HVM guests, which xen-kbdfront drives, with
	# the absolute pointer its backend offers asked for on this domain.
	out=$(xenbus_connected "$DOM_ID" vkbd 0 60) || fail "$1: vkbd 0 not Connected (frontend, backend: $out)"
	out=$(dom0_run -t 30 "xenstore-read /local/domain/0/backend/vkbd/$DOM_ID/0/feature-abs-pointer /local/domain/$DOM_ID/device/vkbd/0/request-abs-pointer 2>&1 | tr '\n' ' '")
	case $out in
	"1 1 ") ;;
	*) fail "$1: vkbd 0: feature-abs-pointer and request-abs-pointer are '$out', not '1 1'" ;;
	esac
}
sci "before hibernation"
for c in $(seq 1 "$CYCLES"); do
	ext4_add_file "$NAME" "f$c" || fail "cycle $c: writing to the ext4 on xvdc failed"
	# The loop's counts live in the guest's memory: check them before each
	# cycle, since a rig fault (hib_cycle) would start the loop afresh.
	read -r passes fails <<< "$(fio_status "$NAME")"
	[ "${fails:-x}" = 0 ] || fail "cycle $c: fio loop reports '${passes:-?} ${fails:-?}' (passes failures)"
	old=$(dom_id "$NAME")
	hib_cycle "$NAME" 'disk_mode; fio_start "$NAME" 16M >/dev/null; write_through "$NAME" xvdc' || fail "cycle $c: hibernation failed: $HIB_FAIL"
	lab_log "cycle $c: domid $old -> $DOM_ID, off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create"
	lab_metric "s4-$c-poweroff-s" "$HIB_T_OFF"
	lab_metric "s4-$c-resume-s" "$HIB_T_RESUMED"
	ext4_check_files "$NAME"
	case $? in
	0) ;;
	124) fail "cycle $c: guest stopped answering after resume" ;;
	*) fail "cycle $c: ext4 files changed across hibernation" ;;
	esac
	# (The loop a repeated cycle started may not have ended a pass yet.)
	fio_status "$NAME" || fail "cycle $c: guest agent dead"
	out=$(write_caches_kept "$NAME") || fail "cycle $c: $out"
	# The restored kernel looks for devices attached while it was off;
	# the nodes that are no devices (libxl's device/suspend) are none.
	out=$(dom_xenbus_warnings "$NAME") && [ -z "$out" ] || fail "cycle $c: xenbus warned: $out"
	sci "cycle $c"
	now=$(dom_run "$NAME" 'ls /sys/block/xvda/mq | wc -l' 30)
	lab_log "cycle $c: xvda has $now hardware queue(s)"
done
# HVM: Xen's own save and restore of the same guest after the cycles: its
# physical IRQs and its keyboard come back through Xen's resume path too.
if [ "$DOM_TYPE" = hvm ]; then
	dom0_run -t 400 "mkdir -p /scratch/save && xl save $NAME /scratch/save/$NAME.chk && xl restore /scratch/save/$NAME.chk && rm -f /scratch/save/$NAME.chk" > /dev/null ||
		fail "xl save and restore of the HVM guest failed"
	DOM_ID=$(dom_id "$NAME")
	dom_run "$NAME" 'echo alive' 60 > /dev/null || fail "guest agent dead after xl restore"
	sci "after xl save and restore"
fi
out=$(fio_stop "$NAME") || fail "fio loop reported errors across hibernation: $out"
lab_log "fio loop passes/failures: $out"
dom_run "$NAME" 'umount /mnt/c && e2fsck -n /dev/xvdc' 120 || fail "e2fsck -n /dev/xvdc reports errors"
dom_run "$NAME" 'dmesg | grep -E "vbd-51712: .* after [0-9]+ usecs" | tail -n 6' 30 | sed 's/^/# /' >&2
dom_destroy "$NAME"
