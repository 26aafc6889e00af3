#!/usr/bin/env bash
# s4-debian-refused: the Debian guest of s4-debian asks for hibernation
# where it cannot work, and the kernel says no, with a reason in the journal:
#  1. a PVH guest whose only swap is a swap file too small for its image
#     (large enough for systemd's own check, which counts only anonymous
#     memory);
#  2. the same disk booted as a PV guest, which the series does not support:
#     hibernation must not even be offered ("disk" missing from
#     /sys/power/state, logind's CanHibernate "na"), and the kernel says
#     why when it boots.
# Each time `systemctl hibernate` fails (in 1 systemd-hibernate.service
# fails and the kernel's message is in the journal after it was typed), the
# same domain runs on in the same boot, the counter service counts on in
# the same process, and the data written before (fio pattern on xvdb, files
# on the root) verifies.
# lab-timeout-s: 1500
# lab-min-s: 600
. "$(dirname "$0")/../lib/lab.sh"
NAME=debian-refused
debian_build
lab_boot
debian_prepare

# refused WHAT REGEX [FROM]: systemctl hibernate must fail, with a kernel
# message matching REGEX in the journal since it was typed (FROM=boot: since
# the boot), and nothing may change.
refused() {
	local what=$1 re=$2 id before after cur out rc since
	id=$(dom_id "$NAME")
	before=$(debian_state "$NAME")
	cur=$(debian_journal_cursor "$NAME")
	since="--after-cursor='$cur'"
	[ "${3:-}" != boot ] || since=-b
	out=$(dom_run "$NAME" "$(debian_hib_cmd systemctl)" 600)
	rc=$?
	case $rc in
	0) fail "$what: hibernation succeeded: $out" ;;
	124) fail "$what: no answer from the guest after systemctl hibernate" ;;
	esac
	lab_log "$what: systemctl hibernate failed: ${out//$'\n'/; }"
	[ "$(dom_id "$NAME")" = "$id" ] || fail "$what: the domain changed"
	out=$(dom_run "$NAME" "journalctl -q -k -o cat $since | grep -E '$re' | tail -n 3" 60)
	[ -n "$out" ] || fail "$what: no kernel message /$re/ in the journal: $(dom_run "$NAME" "journalctl -q -o cat --after-cursor='$cur' | tail -n 15" 60)"
	lab_log "$what: kernel: ${out//$'\n'/; }"
	after=$(debian_state "$NAME")
	read -r _ _ b0 _ p0 <<< "$before"
	read -r _ _ b1 _ p1 <<< "$after"
	[ "$b1 $p1" = "$b0 $p0" ] || fail "$what: boot and counter process were '$b0 $p0', now '$b1 $p1'"
	data_intact "$NAME" "$what"
	dom_run "$NAME" 'systemctl reset-failed; systemctl is-system-running' 60 > /dev/null ||
		fail "$what: systemd is not running normally afterwards"
}

# 1. The swap file swapped off, a smaller one on, and the kernel told where
# it is, as after making a new swap file (systemd checks that the swap it
# hibernates to is the one /sys/power/resume{,_offset} names).
small=${DEBIAN_SMALL_SWAP_MB:-24}
debian_create "$NAME" 1 || fail "$NAME did not become ready"
fio_write "$NAME" 32M > /dev/null || fail "fio_write failed"
ext4_add_file "$NAME" f1 > /dev/null || fail "writing files on the root failed"
dom_run "$NAME" "swapoff /swapfile && fallocate -l ${small}M /swapfile-small && chmod 600 /swapfile-small &&
	mkswap /swapfile-small > /dev/null && swapon /swapfile-small &&
	filefrag -v /swapfile-small | awk '\$1 == \"0:\" { sub(/\\.+\$/, \"\", \$4); print \$4; exit }' > /sys/power/resume_offset &&
	echo \"resume_offset \$(cat /sys/power/resume_offset)\" && grep -E 'Active.anon|SwapFree' /proc/meminfo" 60 ||
	fail "cannot swap to a small file"
refused "a $small MiB swap file" 'PM: (Image saving failed: -28|Not enough free swap|Cannot get swap writer)'
dom_destroy "$NAME"

# 2. PV.
DOM_TYPE=pv debian_create "$NAME" 1 || fail "$NAME did not become ready as a PV guest"
fio_write "$NAME" 32M > /dev/null || fail "fio_write failed"
ext4_add_file "$NAME" f2 > /dev/null || fail "writing files on the root failed"
offered=$(dom_run "$NAME" 'cat /sys/power/state; busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager CanHibernate' 60) ||
	fail "cannot ask the PV guest what it offers: $offered"
lab_log "a PV guest: /sys/power/state and CanHibernate: ${offered//$'\n'/; }"
grep -qw disk <<< "$offered" && fail "a PV guest offers hibernation in /sys/power/state"
grep -qx 's "na"' <<< "$offered" || fail "logind does not say hibernation is not supported on a PV guest"
refused "a PV guest" 'xen:hibernation: not offered: not supported for PV guests' boot
dom_destroy "$NAME"
