#!/usr/bin/env bash
# s4-power-lost: the domain is destroyed while the image is being written,
# then while the kernel of a new domain is reading it.  A PVH guest of 512
# MiB with 320 MiB of random bytes in memory (so that the image takes
# seconds to write and to read) hibernates; at the guest's first "Image
# saving progress" line the domain is paused and destroyed.  Pass: the swap
# area carries no image signature (the cut came before the image was
# whole), the next boot is a fresh one that loads no image, the swap area
# is the same one (its UUID: not made again), xvda's fio pattern and the
# ext4 files on xvdc verify and e2fsck -n is clean.  Then a hibernation
# that ends in the power-off, and the domain that restores it destroyed
# at its first "Image loading progress" line: the loading kernel has
# already taken the signature off, so the next boot is again a fresh one,
# never a resume of a partial image, with the same checks.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=powerlost
lab_boot
DOM_MEM=512 DOM_SWAP_MB=640 dom_create "$NAME" || fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"

# swap_uuid: the UUID in the swap header of xvdb (bytes 1036-1051 of
# struct swap_header), which mkswap would change.
swap_uuid() { dom0_run -t 30 "dd if=/scratch/$NAME/swap.img bs=1 skip=1036 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n'"; }
uuid=$(swap_uuid) && [ -n "$uuid" ] || fail "cannot read xvdb's swap UUID"

# fill: 320 MiB of random bytes in the guest's tmpfs.
fill() {
	dom_run "$NAME" 'mount -o remount,size=90% /tmp && dd if=/dev/urandom of=/tmp/held bs=1M count=320 2>/dev/null && echo filled' 300 >/dev/null
}

# cut WHEN REGEX: pause and destroy the domain at its first console line
# matching REGEX.
cut() {
	dom_wait_marker "$NAME" "$2" 300 >/dev/null || fail "$1: no line /$2/ within 300 s"
	dom0_run -t 30 "xl pause $NAME" >/dev/null || fail "$1: xl pause failed"
	lab_log "$1: paused at /$2/"
	dom_destroy "$NAME"
}

# fresh_boot WHEN: the next boot of the same disks loads no image and finds
# the data and the swap area as they were.
fresh_boot() {
	local out
	_hib_image_pending "$NAME" && fail "$1: the swap area still carries an image signature"
	dom_boot "$NAME" || fail "$1: the guest did not boot afresh"
	out=$(dom_log "$NAME" | grep -a -E 'Loading image data pages|Image loading' | head -n 2)
	[ -z "$out" ] || fail "$1: the next boot loaded an image: $out"
	[ "$(swap_uuid)" = "$uuid" ] || fail "$1: xvdb's swap area was made again (UUID $(swap_uuid), was $uuid)"
	dom_run "$NAME" 'grep -q "^/dev/xvdb " /proc/swaps' 30 || fail "$1: xvdb is not in use as swap"
	data_intact "$NAME" "$1"
	ext4_fsck "$NAME" >/dev/null || fail "$1: e2fsck -n /dev/xvdc reports errors (or xvdc would not mount again)"
	lab_log "$1: a fresh boot, swap $uuid in use, data and ext4 intact"
}

# Case 1: the power lost while the image is written.
fill || fail "write: filling the guest's memory failed"
dom_cursor "$NAME"
dom_send "$NAME" "$_HIB_ECHO_DISK" >/dev/null || fail "write: cannot start the hibernation"
cut write 'Image saving progress: +[1-9]0%'
_hib_image_pending "$NAME" && fail "write: the image was whole before the pause: the cut came too late to test anything"
fresh_boot write

# Case 2: the power lost while the new domain's kernel reads the image.
fill || fail "read: filling the guest's memory failed"
dom_cursor "$NAME"
dom_send "$NAME" "$_HIB_ECHO_DISK" >/dev/null || fail "read: cannot start the hibernation"
dom_wait_gone "$NAME" 300 >/dev/null || fail "read: the domain did not power off after echo disk"
_hib_image_pending "$NAME" || fail "read: no image on xvdb after the power-off"
_dom_start "$NAME" || fail "read: xl create of the domain to restore it failed"
cut read 'Image loading progress: +[1-9]0%'
fresh_boot read
dom_destroy "$NAME"
