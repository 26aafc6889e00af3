#!/usr/bin/env bash
# s4-debian: a stock Debian 12 guest hibernates the way its users do it:
# Debian's systemd, udev and initramfs-tools, the series' kernel packaged by
# make deb from Debian's cloud config (both frontends modules, loaded by the
# initramfs), the image in a swap file on the root filesystem
# (resume=UUID=... resume_offset=...).  `systemctl hibernate` is typed in
# the guest (DEBIAN_HOW=button: dom0 presses the sleep button; an HVM guest
# must then have used ACPI S4); the domain
# powers off; a NEW domain boots the same kernel, whose initramfs loads
# xen-blkfront and resumes the image.  DEBIAN_VCPUS lists each cycle's
# vCPUs (a new guest when the count changes): 1 1 2.  After each restore:
# systemd "running" with no failed unit, the same boot (boot_id) going on, a
# service that counts only in memory counting on in the same process, the
# journal holding the lines logged before the cycle, the hibernation's and
# those logged after, in that order; a fio write+verify loop on the data
# disk (xvdb) without error, files on the root keeping their checksums, and
# a TCP stream from dom0, cut by the first cycle, ending with the sender's
# checksum (dom0 answering ping after the other cycles).
# lab-timeout-s: 2400
# lab-min-s: 900
. "$(dirname "$0")/../lib/lab.sh"
NAME=${DEBIAN_NAME:-debian}
HOW=${DEBIAN_HOW:-systemctl}
debian_build
lab_boot
debian_prepare
# shellcheck disable=SC2034 # for hib_cycle
HIB_CMD=$(debian_hib_cmd "$HOW") || fail "no way to hibernate '$HOW'"
# shellcheck disable=SC2034
HIB_HOW="systemctl hibernate"
# shellcheck disable=SC2034
[ "$HOW" = button ] && HIB_PRESS="xl trigger $NAME sleep" HIB_HOW="the sleep button"

# guest_up VCPUS: a new guest, its data written, the fio loop running.
guest_up() {
	debian_create "$NAME" "$1" "$(net_vif)" || fail "$NAME ($1 vCPUs) did not become ready"
	lab_log "$NAME up with $1 vCPU(s) after ${DOM_READY_S}s: $(dom_run "$NAME" 'systemctl is-system-running; uname -r' 30 | paste -s -d' ' -)"
	fio_write "$NAME" 32M > /dev/null || fail "fio_write on $FIO_DEV failed"
	fio_start "$NAME" 16M > /dev/null || fail "fio loop did not start"
}

# state_ok WHEN STATE FAILED: systemd running, no failed unit.
state_ok() {
	[ "$2 $3" = "running 0" ] ||
		fail "$1: systemd says '$2', $3 failed units: $(dom_run "$NAME" 'systemctl list-units --failed --no-legend --plain' 30)"
}

# after_restore C: the journal's lines of cycle C from "before" on, in
# order (once journald has written what it was sent), then the hibernation
# mode, in one guest command.
after_restore() {
	dom_run "$NAME" "journalctl --sync; journalctl -b -q -o cat | grep -E '^(lab-before-cycle-$1|lab-after-cycle-$1|PM: hibernation: hibernation (entry|exit))\$' |
		sed -n '/^lab-before-cycle-$1\$/,\$p' | paste -s -d, -; cat /sys/power/disk" 60
}

# check_cycle: the restored guest of cycle $c as it should be (run by
# hib_cycle_checked, which repeats the cycle when the guest met a fault of
# the rig's instead).
check_cycle() {
	lab_log "cycle $c ($v vCPUs, $HOW): domid $old -> $DOM_ID, off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create"
	lab_metric "s4-$c-poweroff-s" "$HIB_T_OFF"
	lab_metric "s4-$c-resume-s" "$HIB_T_RESUMED"
	read -r state failed boot1 n1 pid1 <<< "$(debian_state "$NAME" "lab-after-cycle-$c")"
	state_ok "cycle $c: after the restore" "$state" "$failed"
	lab_log "cycle $c: boot $boot0 -> $boot1, counter $n0 (pid $pid0) -> $n1 (pid $pid1)"
	{ read -r order; read -r mode; } <<< "$(after_restore "$c")"
	# HVM: systemd chose ACPI's S4 (its HibernateMode "platform shutdown"),
	# which the firmware offers.
	if [ "$DOM_TYPE" = hvm ]; then
		case $mode in *"[platform]"*) ;; *) fail "cycle $c: hibernation mode '$mode', not platform" ;; esac
	fi
	# A cycle a rig fault made repeat (hib_cycle) started from a fresh
	# boot: only the others carry the boot, the counter and the journal.
	if [ "$(cat "$LAB_SCEN_LOG/rig-repeats" 2>/dev/null | wc -l)" = "$repeats" ]; then
		[ "$boot1" = "$boot0" ] || fail "cycle $c: a new boot ($boot1), not the hibernated one ($boot0)"
		[ "$pid1" = "$pid0" ] || fail "cycle $c: the counter service is another process ($pid0, now $pid1: count $n0, now $n1)"
		[ "$order" = "lab-before-cycle-$c,PM: hibernation: hibernation entry,PM: hibernation: hibernation exit,lab-after-cycle-$c" ] ||
			fail "cycle $c: journal lines out of order: $order"
	fi
	read -r passes fails <<< "$(fio_status "$NAME")"
	[ "${fails:-x}" = 0 ] || fail "cycle $c: fio loop reports '${passes:-?} ${fails:-?}' (passes failures)"
	data_intact "$NAME" "cycle $c"
	if [ -n "$stream" ]; then
		out=$(net_stream_check "$NAME" 240) || fail "cycle $c: TCP stream: $out"
		lab_log "cycle $c: TCP stream $out"
	else
		gap=$(net_ping_gap "$NAME") || fail "cycle $c: no ping answer from dom0 over the vif"
		lab_log "cycle $c: dom0 answers ping ${gap}s after the first try"
	fi
}

vcpus_now=
c=0
for v in ${DEBIAN_VCPUS:-1 1 2}; do
	c=$((c + 1))
	[ "$v" = "$vcpus_now" ] || { guest_up "$v"; vcpus_now=$v; }
	ext4_add_file "$NAME" "f$c" > /dev/null || fail "cycle $c: writing files on the root failed"
	# A TCP stream across the first cycle; ping after the others: after a
	# restore, dom0's TCP takes a retransmission timeout, backed off for as
	# long as the guest was away (a minute or more), to send again.
	stream=
	[ "$c" != 1 ] || stream=1
	if [ -n "$stream" ]; then
		net_stream_start "$NAME" "${NET_MIB:-200}" || fail "cycle $c: could not start the TCP stream"
	fi
	read -r state failed boot0 n0 pid0 <<< "$(debian_state "$NAME" "lab-before-cycle-$c")"
	state_ok "cycle $c: before" "$state" "$failed"
	# The stream must still be running (dom0's sender has not ended): the
	# cycle is to cut it.
	if [ -n "$stream" ]; then
		dom0_run '[ ! -e /scratch/net-send.rc ]' > /dev/null || fail "cycle $c: the stream ended before the hibernation"
	fi
	old=$(dom_id "$NAME")
	repeats=$(cat "$LAB_SCEN_LOG/rig-repeats" 2>/dev/null | wc -l)
	hib_cycle_checked "$NAME" 'fio_start "$NAME" 16M >/dev/null && { [ -z "$stream" ] || net_stream_start "$NAME" "${NET_MIB:-200}"; }' check_cycle ||
		fail "cycle $c: hibernation failed: $HIB_FAIL"
done
out=$(fio_stop "$NAME") || fail "fio loop reported errors across hibernation: $out"
lab_log "fio loop passes/failures: $out"
dom_destroy "$NAME"
