#!/usr/bin/env bash
# s4-evtchn-abi: the kernel that loads an image and the image may use
# different event channel ABIs (xen.fifo_events=0 on one command line and
# not on the other).  A 2-vCPU PVH guest hibernates three times:
#  1. image 2-level, loader FIFO;
#  2. image 2-level, loader 2-level (the 2-level ABI on its own);
#  3. after a fresh boot with FIFO: image FIFO, loader 2-level.
# Each loader must say which ABI it used, each restore must come back on a
# new domain with the image's ABI, both vCPUs online, xvda's fio pattern and
# the ext4 files intact; at the end the guest must obey xl shutdown, which
# needs its xenstore channel.  Every other scenario runs FIFO in both.
# lab-min-s: 270
. "$(dirname "$0")/../lib/lab.sh"
NAME=abi
TWO_LEVEL=xen.fifo_events=0
cfg=$LAB_RUN/cfg/$NAME.cfg

# loader_abi 2l|fifo: the command line of the next domain created.
loader_abi() {
	sed -i "s/ $TWO_LEVEL//" "$cfg"
	[ "$1" = fifo ] || sed -i "s/^cmdline = \"\\(.*\\)\"/cmdline = \"\\1 $TWO_LEVEL\"/" "$cfg"
}
# abi_arg ABI: loader_abi's argument for ABI as a log names it.
abi_arg() { if [ "$1" = 2-level ]; then echo 2l; else echo fifo; fi; }
# The ABI a kernel log names ("FIFO-based" or "2-level").
abi_in() { grep -a -o -E 'Using (FIFO-based|2-level) ABI' | tail -n 1 | awk '{ print $2 }'; }
running_abi() { dom_run "$NAME" 'dmesg' 30 | abi_in; }
data_ok() {
	data_intact "$NAME" "$1"
	online=$(dom_run "$NAME" 'cat /sys/devices/system/cpu/online' 30)
	[ "$online" = 0-1 ] || fail "$1: vCPUs online after the restore: '$online'"
}
# cycle N IMAGE LOADER: hibernate with the running kernel's ABI IMAGE,
# restore with a loader booted for ABI LOADER.
cycle() {
	local n=$1 image=$2 loader=$3 said
	[ "$(running_abi)" = "$image" ] || fail "$n: the running kernel uses the $(running_abi) ABI, not $image"
	ext4_add_file "$NAME" "a$n" 8 || fail "$n: writing to the ext4 on xvdc failed"
	# A cycle repeated after a rig fault boots afresh with the image's
	# command line (NAME.cfg.image), then loads with the loader's.
	loader_abi "$(abi_arg "$image")" && cp "$cfg" "$cfg.image" || fail "$n: cannot keep the image's configuration"
	loader_abi "$(abi_arg "$loader")"
	hib_cycle "$NAME" || fail "$n: image $image, loader $loader: $HIB_FAIL"
	said=$(dom_log "$NAME" | abi_in)
	[ "$said" = "$loader" ] || fail "$n: the loading kernel used the '$said' ABI, not $loader"
	[ "$(running_abi)" = "$image" ] || fail "$n: the restored kernel says it uses the $(running_abi) ABI, not the image's $image"
	data_ok "$n"
	lab_log "$n: image $image, loader $loader: restored as domid $DOM_ID after ${HIB_T_RESUMED}s, data verified"
}

lab_boot
DOM_CMDLINE_EXTRA=$TWO_LEVEL dom_create "$NAME" 2 || fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"
cycle 1 2-level FIFO-based
cycle 2 2-level 2-level

dom_destroy "$NAME"
loader_abi fifo
dom_boot "$NAME" || fail "no fresh boot with FIFO event channels"
cycle 3 FIFO-based 2-level

id=$DOM_ID
if ! dom0_run -t 90 "xl shutdown $NAME" >/dev/null || ! dom_wait_gone "$NAME" 120 >/dev/null; then
	fail "the restored guest did not obey xl shutdown (control/shutdown: '$(dom0_run -t 30 "xenstore-read /local/domain/$id/control/shutdown 2>&1")')"
fi
lab_log "xl shutdown: the restored guest powered off"
