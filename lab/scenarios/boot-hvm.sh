#!/usr/bin/env bash
# boot-hvm: the same as boot-pvh for an HVM guest (device model: Debian's
# qemu-system-xen in dom0, direct kernel boot of the bzImage).
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom0_run 'ls /usr/libexec/xen-qemu-system-i386 /usr/lib/xen-4.17/boot/hvmloader' >/dev/null ||
	skip "no device model / hvmloader in dom0"
if ! DOM_TYPE=hvm DOM_READY_TIMEOUT=${HVM_READY_TIMEOUT:-300} dom_create hvm1; then
	dom0_run 'tail -n 30 /var/log/xen/qemu-dm-hvm1.log' 2>/dev/null | sed 's/^/qemu-dm: /'
	fail "HVM guest did not become ready"
fi
lab_metric domU-ready-s "$DOM_READY_S"
out=$(dom_run hvm1 'cat /sys/block/xvda/size; uname -r') || fail "agent failed: $out"
[ "$(echo "$out" | head -n 1)" = $((DOM_DATA_MB * 2048)) ] || fail "xvda missing or wrong size: $out"
fio_write hvm1 64M || fail "fio write of 64 MiB failed"
fio_verify hvm1 64M || fail "fio verify of 64 MiB failed"
dom_destroy hvm1
