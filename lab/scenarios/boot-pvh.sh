#!/usr/bin/env bash
# boot-pvh: a PVH domU boots, xvda is present, fio write+verify (crc32c) of 64 MiB passes.
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom_create pvh1 || fail "pvh1 did not become ready"
lab_metric domU-ready-s "$DOM_READY_S"
out=$(dom_run pvh1 'cat /sys/block/xvda/size; uname -r; cat /sys/power/pm_print_times /sys/power/disk') || fail "agent failed: $out"
echo "$out"
[ "$(echo "$out" | head -n 1)" = $((DOM_DATA_MB * 2048)) ] || fail "xvda missing or wrong size: $out"
t=$(_now)
fio_write pvh1 64M || fail "fio write of 64 MiB failed"
fio_verify pvh1 64M || fail "fio verify of 64 MiB failed"
lab_metric fio-64M-write+verify-s "$(_since "$t")"
dom_destroy pvh1
