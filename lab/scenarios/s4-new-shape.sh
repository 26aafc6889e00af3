#!/usr/bin/env bash
# s4-new-shape: the domain that restores the image is not built like the one
# that took it.  Each change must either work or be refused with a clear
# message, never hang, and never lose data that was on disk.
#  1. more grant frames (max_grant_frames 64): the restore must work, fio
#     pattern and ext4 files intact.
#  2. a higher memory ceiling (maxmem 384 MiB for 192 MiB of RAM): works, or
#     is refused with a reason on the console and a fresh boot (the memory
#     map differs; the loading kernel's domain may not back all of it).
#  3. more RAM (256 MiB): the memory map differs, the loading kernel must
#     refuse the image ("Image mismatch" or "inconsistent memory map") and
#     boot afresh.
#  4. ballooned down by 128 MiB (xl mem-set) before hibernating, restored
#     into a domain created from its configuration, all of its memory
#     populated: the balloon must reach the new domain's target again;
#  5. a domain created with less memory than its memory map (memory 192
#     MiB, maxmem 384), whose kernels balloon out the difference at boot,
#     not the same frames: a new domain of the same configuration could not
#     hold the whole memory map, which the loading kernel must populate, so
#     hibernation is not offered ("disk" not in /sys/power/state, the
#     kernel's reason at boot, echo disk fails) and the guest runs on.
# After every case the data written before it is intact.
# lab-min-s: 360
. "$(dirname "$0")/../lib/lab.sh"
NAME=shape
lab_boot
dom_create "$NAME" 1 || fail "$NAME did not become ready"
cfg=$LAB_RUN/cfg/$NAME.cfg
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"
files() {	# files N: write file N on xvdc's ext4, record its checksum
	ext4_add_file "$NAME" "s$1" 8 ||
		fail "writing to the ext4 on xvdc failed"
}
data_ok() { data_intact "$NAME" "$1"; }

# refused_cleanly WHAT: the last dom_hibernate_and_restore did not resume:
# the loading kernel must have said why, and booted afresh.
refused_cleanly() {
	local why
	[ "$HIB_FAIL" = no-resume ] || fail "$1: the restore neither worked nor was refused cleanly: $HIB_FAIL"
	why=$(dom_log "$NAME" | grep -a -o -E 'Image mismatch: [a-z ]+|Hibernate inconsistent memory map detected!|resume from hibernation refused: .*' | head -n 1)
	[ -n "$why" ] || fail "$1: the loading kernel booted afresh without saying why it refused the image"
	echo "$why"
}

# 1. More grant frames: Xen allows it, the restore must work.
files 1
echo 'max_grant_frames = 64' >> "$cfg"
dom_hibernate_and_restore "$NAME" >/dev/null || fail "restore onto a domain with max_grant_frames 64 failed: $HIB_FAIL"
data_ok "max_grant_frames 64"
lab_log "1: max_grant_frames 64: restored as domid $DOM_ID after ${HIB_T_RESUMED}s, data verified"

# 2. A higher memory ceiling (maxmem 384 MiB, RAM still 192 MiB).
files 2
echo 'maxmem = 384' >> "$cfg"
if dom_hibernate_and_restore "$NAME" >/dev/null; then
	lab_log "2: maxmem 384: restored as domid $DOM_ID after ${HIB_T_RESUMED}s"
else
	why=$(refused_cleanly "maxmem 384") || exit 1
	lab_log "2: maxmem 384: image refused ('$why'), fresh boot as domid $DOM_ID"
fi
data_ok "maxmem 384"
# Either way the guest now runs in a domain of memory below maxmem, which
# is not offered hibernation (case 5): boot it again as it was.
dom_destroy "$NAME"
sed -i '/^maxmem = /d' "$cfg"
dom_boot "$NAME" || fail "$NAME did not boot again with memory 192"

# 3. More RAM: the memory map differs and the image must be refused.
files 3
sed -i 's/^memory = .*/memory = 256/' "$cfg"
if dom_hibernate_and_restore "$NAME" >/dev/null; then
	fail "an image taken with 192 MiB was restored in a 256 MiB domain without a word"
fi
why=$(refused_cleanly "memory 256") || exit 1
lab_log "3: memory 256: image refused ('$why'), fresh boot as domid $DOM_ID"
data_ok "after the refused image"

# 4. Ballooned down before the hibernation.  The balloon's pages are left
# out of the image; the new domain has them populated.
files 4
read -r full _ < <(dom_balloon_kb "$NAME")
[ -n "$full" ] || fail "the guest has no balloon (/sys/devices/system/xen_memory)"
dom0_run "xl mem-set $NAME $((full / 1024 - 128))m" > /dev/null || fail "xl mem-set failed"
down=$(dom_balloon_settles "$NAME" 120 "" "$full") || fail "the balloon did not shrink to the target xl mem-set gave: $down"
dom_hibernate_and_restore "$NAME" >/dev/null || fail "restore of a ballooned guest failed: $HIB_FAIL"
# The new domain is configured as the first one was before xl mem-set.
up=$(dom_balloon_settles "$NAME" 120 "$full") ||
	fail "after the restore into a new domain the balloon did not grow back to $full KiB: $up (ballooned down to $down before the hibernation)"
data_ok "ballooned down by 128 MiB"
lab_log "4: ballooned from $full KiB to $down, restored as domid $DOM_ID: balloon at $up, data verified"

# 5. memory below maxmem: both kernels would hold the difference in their
# balloons, not necessarily the same frames, and a new domain could not
# back the frames the image needs: not offered.
dom_destroy "$NAME"
sed -i 's/^memory = .*/memory = 192/; /^maxmem = /d' "$cfg" && echo 'maxmem = 384' >> "$cfg"
dom_boot "$NAME" || fail "$NAME did not boot with memory 192 and maxmem 384"
files 5
states=$(dom_run "$NAME" 'cat /sys/power/state' 30) || fail "cannot read /sys/power/state"
case " $states " in
*" disk "*) fail "memory 192, maxmem 384: /sys/power/state offers disk ($states)" ;;
esac
why=$(dom_log "$NAME" | grep -a -o 'xen:hibernation: not offered: .*less memory than its memory map.*' | head -n 1)
[ -n "$why" ] || fail "memory 192, maxmem 384: the kernel did not say at boot why it does not offer hibernation"
hib_must_abort "$NAME" "memory below maxmem"
lab_log "5: memory 192, maxmem 384: /sys/power/state '$states', '$why', echo disk failed, same domain"
data_ok "memory 192, maxmem 384"

ext4_fsck "$NAME" ||
	fail "e2fsck -n /dev/xvdc reports errors at the end"
dom_destroy "$NAME"
