#!/usr/bin/env bash
# s4-memory: hibernation with most of the guest's memory in use, and while
# its balloon is moving.  A PVH guest of 512 MiB, two vCPUs, 1 GiB of swap.
#  1. 60% of its memory in a ramfs, which can be neither swapped out nor
#     left out of the image: the image cannot fit, and the kernel must
#     refuse ("Image allocation is ... pages short"); echo disk fails, the
#     same domain goes on, the ramfs file keeps its checksum.
#  2. 70% of its memory in a tmpfs file, with image_size as large as the
#     memory (the kernel keeps as much in the image as it can, and swaps
#     out the rest): restored on a new domain, the file keeps its checksum.
#  3. with that file still there, the balloon given a target 256 MiB lower
#     (through its sysfs target) and the hibernation begun as soon as it
#     started to give memory back: restored on a new domain, whose target
#     is the whole memory again, the balloon returns to it, and the file
#     keeps its checksum.
#  4. the file removed, the domain's memory lowered by 256 MiB (xl mem-set,
#     which lowers the most Xen lets it have too), then the balloon given
#     its whole memory as target and the hibernation begun as soon as it
#     took some (Xen refuses more): restored on a new domain of the whole
#     memory, the balloon reaches it.
# Pass: each case as said; in 3 and 4 the balloon was between its old and
# new targets when the hibernation began, and the restored kernel gave
# back the balloon's pages the new domain had populated; xvda's pattern and
# xvdc's files verify after each; no warning, BUG or oops.
# lab-min-s: 540
. "$(dirname "$0")/../lib/lab.sh"
NAME=memory
MEM=512
lab_boot
DOM_MEM=$MEM DOM_SWAP_MB=1024 dom_create "$NAME" 2 || fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
read -r full _ < <(dom_balloon_kb "$NAME")
[ -n "$full" ] || fail "the guest has no balloon (/sys/devices/system/xen_memory)"
lab_log "the balloon's target: $full KiB"

# fill DIR MIB: a file of MIB MiB of random data in DIR, its checksum kept
# beside it in /tmp (a few bytes).
fill() {
	dom_run "$NAME" "dd if=/dev/urandom of=$1/fill bs=1M count=$2 2>/dev/null && sha256sum $1/fill > /tmp/fill.sum && free -m | sed -n 2p" 300
}
fill_intact() {
	dom_run "$NAME" 'sha256sum -c /tmp/fill.sum >/dev/null' 300 || fail "$1: the file in memory lost its contents"
}
clean() {
	local w
	data_intact "$NAME" "$1"
	w=$(dom_warnings "$NAME") && [ -z "$w" ] || fail "$1: the guest warned: $w"
}

# 1. Memory that must go into the image and does not fit.
dom_run "$NAME" 'mkdir -p /mnt/ramfs && mount -t ramfs ramfs /mnt/ramfs' 30 || fail "case 1: cannot mount a ramfs"
out=$(fill /mnt/ramfs $((MEM * 6 / 10))) || fail "case 1: cannot fill the ramfs: $out"
lab_log "case 1: ramfs filled: $out"
hib_must_abort "$NAME" "60% of the memory in a ramfs" memory-refused-s
why=$(dom_run "$NAME" "dmesg | grep -E 'Image allocation is [0-9]+ pages short' | tail -n 1" 30)
[ -n "$why" ] || fail "case 1: the kernel did not say the image does not fit"
lab_log "case 1: refused: $why"
fill_intact "case 1"
dom_run "$NAME" 'rm -f /mnt/ramfs/fill && umount /mnt/ramfs' 30 || fail "case 1: cannot remove the ramfs"
clean "case 1"

# 2. Most of the memory in use, as much of it as possible in the image.
# fill_tmp: /tmp and image_size as large as case 2 needs, the file in /tmp.
fill_tmp() {
	dom_run "$NAME" "mount -o remount,size=$((MEM * 9 / 10))m /tmp && echo $((MEM << 20)) > /sys/power/image_size" 30 ||
		{ echo "cannot make /tmp or image_size larger"; return 1; }
	fill /tmp $((MEM * 7 / 10))
}
out=$(fill_tmp) || fail "case 2: cannot fill /tmp: $out"
lab_log "case 2: /tmp filled: $out"
hib_cycle "$NAME" 'fill_tmp >/dev/null' || fail "case 2: hibernation failed: $HIB_FAIL"
lab_log "case 2: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $(dom_id "$NAME"); $(dom_run "$NAME" "dmesg | grep -E 'Allocated [0-9]+ pages for snapshot|Need to copy|Wrote [0-9]+ kbytes' | tail -n 3 | tr '\n' ';'" 30)"
fill_intact "case 2"
clean "case 2"

# hibernate_moving WHEN KIB RECOVER: set the balloon's target to KIB in the
# guest and hibernate as soon as the balloon moves; it must still have been
# between its targets, and the restored kernel must have given back the
# balloon's pages the new domain populated (one such message more than
# when the hibernation began).  RECOVER sets the guest up again after a rig
# fault (hib_cycle).
hibernate_moving() {
	local before st c m n0 released
	# shellcheck disable=SC2016 # the guest expands them
	HIB_CMD="d=/sys/devices/system/xen_memory/xen_memory0; read -r c < \$d/info/current_kb; echo $2 > \$d/target_kb || exit 9
i=0; while read -r m < \$d/info/current_kb; [ \"\$m\" = \"\$c\" ] && [ \$i -lt 100 ]; do i=\$((i+1)); sleep 0.05; done
echo \"\$c \$m \$(dmesg | grep -c 'released [0-9]* ballooned pages populated')\" > /tmp/balloon.hib; $_HIB_ECHO_DISK" \
		hib_cycle "$NAME" "$3" || fail "$1: hibernation failed: $HIB_FAIL"
	before=$(dom_run "$NAME" 'cat /tmp/balloon.hib' 30)
	read -r c m n0 <<< "$before"
	lab_log "$1: balloon at $c KiB, then $m KiB when the hibernation began (target $2 KiB); off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create"
	if [ "$2" -lt "$c" ]; then
		[ "$m" -lt "$c" ] && [ "$m" -gt "$2" ] || fail "$1: the balloon was not moving down when the hibernation began ($c, then $m KiB, target $2)"
	else
		[ "$m" -gt "$c" ] && [ "$m" -lt "$2" ] || fail "$1: the balloon was not moving up when the hibernation began ($c, then $m KiB, target $2)"
	fi
	st=$(dom_balloon_settles "$NAME" 180 "$full") ||
		fail "$1: after the restore the balloon did not return to the new domain's target $full KiB: $st"
	# What the balloon still held is populated in the new domain: given
	# back first, then taken again as the balloon grows.
	released=$(dom_run "$NAME" "dmesg | grep -o 'released [0-9]* ballooned pages populated' | tail -n 1" 30)
	[ "$(dom_run "$NAME" "dmesg | grep -c 'released [0-9]* ballooned pages populated'" 30)" = $((n0 + 1)) ] ||
		fail "$1: the balloon held no page when the image was taken: the kernel gave none back after the restore"
	lab_log "$1: restored as domid $(dom_id "$NAME"), the balloon at $st; $released"
}

# 3. The balloon giving memory back when the hibernation begins, with the
# file of case 2 still in memory: the guest has to swap to meet the target.
hibernate_moving "case 3" $((full - 256 * 1024)) 'fill_tmp >/dev/null'
fill_intact "case 3"
dom_run "$NAME" 'rm -f /tmp/fill' 30 || fail "case 3: cannot remove the file"
clean "case 3"

# 4. The balloon taking memory when the hibernation begins.
# The toolstack lowers the domain's memory, and with it the most Xen lets
# it have; the guest asked for all of it again keeps asking.
balloon_low() {
	dom0_run -t 60 "xl mem-set $NAME $((full - 256 * 1024))k" >/dev/null &&
		dom_balloon_settles "$NAME" 180 "" "$full"
}
st=$(balloon_low) || fail "case 4: the balloon did not go down by 256 MiB after xl mem-set: $st"
hibernate_moving "case 4" "$full" 'balloon_low >/dev/null'
clean "case 4"
dom_destroy "$NAME"
