#!/usr/bin/env bash
# s4-new-shape: the domain that restores the image is not built like the one
# that took it.  Each change must either work or be refused with a clear
# message, never hang, and never lose data that was on disk.
#  1. more grant frames (max_grant_frames 64): the restore must work, fio
#     pattern and ext4 files intact.
#  2. a higher memory ceiling (maxmem 384 MiB for 192 MiB of RAM): works, or
#     is refused with a reason on the console and a fresh boot.
#  3. more RAM (256 MiB): the memory map differs, the loading kernel must
#     refuse the image ("Image mismatch" or "inconsistent memory map") and
#     boot afresh.
# After every case the data written before it is intact.
# lab-min-s: 230
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
	why=$(dom_log "$NAME" | grep -a -o -E 'Image mismatch: [a-z ]+|Hibernate inconsistent memory map detected!' | head -n 1)
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

# 3. More RAM: the memory map differs and the image must be refused.
files 3
sed -i 's/^memory = .*/memory = 256/; /^maxmem = /d' "$cfg"
if dom_hibernate_and_restore "$NAME" >/dev/null; then
	fail "an image taken with 192 MiB was restored in a 256 MiB domain without a word"
fi
why=$(refused_cleanly "memory 256") || exit 1
lab_log "3: memory 256: image refused ('$why'), fresh boot as domid $DOM_ID"
data_ok "after the refused image"
dom_run "$NAME" 'cd / && umount /mnt/c && e2fsck -n /dev/xvdc >/tmp/fsck.out 2>&1; rc=$?; tail -n 2 /tmp/fsck.out; exit $rc' 120 ||
	fail "e2fsck -n /dev/xvdc reports errors after the refused image"
dom_destroy "$NAME"
