#!/usr/bin/env bash
# s4-devices-moved: the domain that restores the image has other devices
# than the one that took it.  A PVH guest with four disks and a vif, a
# reader looping on xvdd, hibernates twice.  Cycle 1: the new domain has
# no xvdd and no vif, and a disk xvde the guest never saw (16 MiB of random
# bytes written by dom0).  Pass: the guest logs that xvdd is gone and xvde
# is new; xvdd and the vif are unregistered (no block device, no xenbus
# device, no eth0); the reader's next read fails instead of waiting; xvde
# is Connected at both ends and reads back dom0's bytes; xvda's fio pattern
# and the ext4 files on xvdc verify.  Cycle 2: the vif is back, with
# another MAC address: eth0 is probed with it, Connected, and dom0 answers
# a ping; xvde and the data still verify.  No warning, BUG or oops in the
# guest after either cycle.  The domain that takes a repeated cycle's
# fresh boot has the first configuration (lab/lib/hib.sh, NAME.cfg.image).
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=moved
XVDD=51760
XVDE=51776
MAC2=00:16:3e:5a:00:07
lab_boot
# shellcheck disable=SC2034 # for dom_create
DOM_DISKS="xvda data.img
xvdb swap.img
xvdc ext4.img
xvdd gone.img"
# shellcheck disable=SC2034 # for dom_create
DOM_MAKE_DISKS="rm -f ./*.img && truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
	cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img && truncate -s 16M gone.img &&
	head -c 16M /dev/urandom > added.img"
dom_create "$NAME" 1 "$(net_vif)" || fail "$NAME did not become ready"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
net_up "$NAME" >/dev/null || fail "no ping answer from dom0 over the vif"
added=$(dom0_run "sha256sum < /scratch/$NAME/added.img | cut -d' ' -f1") || fail "no checksum of added.img"
cfg=$LAB_RUN/cfg/$NAME.cfg

# start_reader: one direct read of xvdd every 0.2 s until a read fails.
start_reader() {
	dom_run "$NAME" 'rm -f /tmp/xvdd.end; { while dd if=/dev/xvdd of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; do sleep 0.2; done
		echo ended > /tmp/xvdd.end; } </dev/null >/dev/null 2>&1 & echo started' 30 >/dev/null
}
start_reader || fail "the reader of xvdd did not start"

# guest_clean WHEN: no warning, BUG or oops in the guest's log.
guest_clean() {
	local bad
	bad=$(dom_warnings "$NAME") && [ -z "$bad" ] || fail "$1: the guest warned: $bad"
}

# Cycle 1: xvdd and the vif gone, xvde new.
cp "$cfg" "$cfg.image" || fail "cannot keep the first configuration"
sed -i -e "s|,'format=raw,vdev=xvdd,access=rw,target=/scratch/$NAME/gone.img'|,'format=raw,vdev=xvde,access=rw,target=/scratch/$NAME/added.img'|" \
	-e '/^vif = /d' "$cfg"
grep -q "vdev=xvde" "$cfg" && ! grep -q -e "vdev=xvdd" -e '^vif' "$cfg" || fail "cannot write the new domain's configuration"
hib_cycle "$NAME" start_reader || fail "cycle 1 (xvdd and the vif removed, xvde added): $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "cycle 1: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"
# Every check of the cycle, each failure named: what an old kernel does
# shows in one run.
bad=
said=$(dom_run "$NAME" "dmesg | grep -E 'device/vbd/$XVDD is gone|device/vif/0 is gone|device/vbd/$XVDE is new'" 30)
for what in "device/vbd/$XVDD is gone" "device/vif/0 is gone" "device/vbd/$XVDE is new"; do
	grep -q "$what" <<< "$said" || bad+="; the guest did not log '$what'"
done
left=$(dom_run "$NAME" "ls -d /sys/block/xvdd /sys/bus/xen/devices/vbd-$XVDD /sys/bus/xen/devices/vif-0 /sys/class/net/eth0 2>/dev/null" 30)
[ -z "$left" ] || bad+="; still registered: ${left//$'\n'/ }"
dom_run "$NAME" 'i=0; until [ -e /tmp/xvdd.end ]; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done' 90 >/dev/null ||
	bad+="; the reader of the removed xvdd still waits 60 s after the restore"
if st=$(xenbus_connected "$id" vbd $XVDE 60); then
	sum=$(dom_run "$NAME" 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/xvde ] && break; sleep 1; done
		dd if=/dev/xvde bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d" " -f1' 90)
	[ "$sum" = "$added" ] || bad+="; xvde reads back '$sum', dom0 wrote '$added'"
else
	bad+="; xvde's states are '$st', not Connected"
fi
[ -z "$bad" ] || fail "cycle 1 (xvdd and the vif removed, xvde added)${bad}"
data_intact "$NAME" "cycle 1"
guest_clean "cycle 1"
lab_log "cycle 1: xvdd and the vif removed, the reader failed, xvde probed and verified"

# Cycle 2: the vif back, with another MAC address.
cp "$cfg" "$cfg.image" && net_vif "$MAC2" >> "$cfg" || fail "cannot write the second configuration"
hib_cycle "$NAME" || fail "cycle 2 (a vif added): $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "cycle 2: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"
dom_run "$NAME" "dmesg | grep -q 'device/vif/0 is new'" 30 || fail "cycle 2: the guest did not log that device/vif/0 is new"
st=$(xenbus_connected "$id" vif 0 60) || fail "cycle 2: the vif's states are '$st', not Connected"
mac=$(dom_run "$NAME" 'i=0; until [ -e /sys/class/net/eth0 ]; do i=$((i+1)); [ $i -lt 30 ] || exit 1; sleep 1; done
	cat /sys/class/net/eth0/address' 60) || fail "cycle 2: no eth0"
[ "$mac" = "$MAC2" ] || fail "cycle 2: eth0 has MAC $mac, the toolstack gave $MAC2"
net_up "$NAME" >/dev/null || fail "cycle 2: no ping answer from dom0 over the new vif"
sum=$(dom_run "$NAME" 'dd if=/dev/xvde bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d" " -f1' 90)
[ "$sum" = "$added" ] || fail "cycle 2: xvde reads back '$sum', dom0 wrote '$added'"
data_intact "$NAME" "cycle 2"
guest_clean "cycle 2"
lab_log "cycle 2: a vif added while off is probed with its MAC and answers"
dom_destroy "$NAME"
