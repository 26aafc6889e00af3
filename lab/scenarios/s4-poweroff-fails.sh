#!/usr/bin/env bash
# s4-poweroff-fails: an HVM guest in hibernation mode "platform" writes its
# image, then fails to power off: the system-core step that platform mode
# runs again before ACPI S4 returns -EBUSY (lab/guest/modules/syscorefail.c,
# skip=1: the snapshot's own call succeeds), as a wakeup event would make it.
# The kernel rolls back, and the PM core restores the devices that thawed
# to write the image, which are still connected.  Pass: the guest stays on
# its domain, says it rolled back, the system-core step ran twice; its disks
# and the virtual keyboard are Connected at both ends; the data written
# before reads back, and the disks take new writes, within bounds a hang
# would miss; no warning or oops.  Then the guest hibernates for real and
# comes back on a new domain with its data.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
export DOM_TYPE=hvm DOM_READY_TIMEOUT=${HVM_READY_TIMEOUT:-300}
NAME=pofail
XVDA=51712
XVDC=51744
lab_boot
ramdisk=$(guest_module_ramdisk syscorefail) || fail "no initramfs with syscorefail"
DOM_RAMDISK=$ramdisk dom_create "$NAME" || fail "$NAME did not become ready"
modes=$(dom_run "$NAME" 'echo platform > /sys/power/disk; cat /sys/power/disk' 30)
case " $modes " in
*" [platform] "*) ;;
*) fail "cannot select hibernation mode platform: /sys/power/disk says '$modes'" ;;
esac
fio_write "$NAME" 64M || fail "fio write failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
id=$(dom_id "$NAME")
dom_cursor "$NAME" rollback
out=$(dom_run "$NAME" 'insmod /lib/syscorefail.ko skip=1 err=-16 || exit 1
echo disk > /sys/power/state; echo "echo disk rc=$?"' 300)
lab_log "guest: $out"
case $out in
*"echo disk rc="*) ;;
*) fail "no answer from the guest after the failed power-off: $out" ;;
esac
[ "$(dom_id "$NAME")" = "$id" ] || fail "the domain changed: the guest did not stay up"
n=$(dom_run "$NAME" 'cat /sys/module/syscorefail/parameters/count' 30)
[ "$n" = 2 ] || fail "the system-core step ran ${n:-?} times, not twice (snapshot, power-off)"
dom_run "$NAME" 'dmesg | grep -q "rolling back"' 30 || fail "the guest did not say it rolled back"
for dev in "vbd $XVDA" "vbd $XVDC" "vkbd 0"; do
	# shellcheck disable=SC2086 # class and device id
	st=$(xenbus_connected "$id" $dev 60) || fail "$dev: states '$st' after the rollback, not Connected"
done
FIO_TIMEOUT=120 fio_verify "$NAME" 64M || fail "data on xvda does not read back within 120 s of the rollback"
ext4_add_file "$NAME" after || fail "the ext4 on xvdc takes no write after the rollback"
ext4_check_files "$NAME" || fail "ext4 files changed across the rollback"
bad=$(dom_log "$NAME@rollback" | grep -a -E 'WARNING:|BUG:|Oops:' | head -n 3)
[ -z "$bad" ] || fail "the guest warned during the rollback: $bad"
lab_log "rolled back on domain $id: disks and keyboard Connected, data verified"

# The lab's kernel cannot unload modules: let every later call through.
dom_run "$NAME" 'echo 4294967295 > /sys/module/syscorefail/parameters/skip' 30 >/dev/null ||
	fail "cannot disarm syscorefail"
# A cycle repeated after a rig fault hibernates a fresh boot, in the same
# mode.
hib_cycle "$NAME" 'dom_run "$NAME" "echo platform > /sys/power/disk" 30 >/dev/null' ||
	fail "hibernation after the rollback failed: $HIB_FAIL"
lab_log "then hibernated: domid $id -> $DOM_ID, off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create"
fio_verify "$NAME" 64M || fail "data on xvda does not verify after the restore"
ext4_check_files "$NAME" || fail "ext4 files changed across the hibernation"
dom_destroy "$NAME"
