#!/usr/bin/env bash
# selftest-corrupt: the data check can fail.  Write the fio pattern, overwrite
# one 4 KiB block of xvda's backing file from dom0, and require fio verify to
# FAIL (and a clean verify before the corruption to pass).
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom_create sc1 || fail "sc1 did not become ready"
fio_write sc1 64M || fail "fio write failed"
fio_verify sc1 64M || fail "clean verify failed before the corruption"
dom0_run 'dd if=/dev/urandom of=/scratch/sc1/data.img bs=4k seek=4099 count=1 conv=notrunc,fsync 2>&1' || fail "dd in dom0 failed"
if out=$(fio_verify sc1 64M); then
	fail "fio verify PASSED on corrupted data: the check cannot fail"
fi
echo "$out"
echo "$out" | grep -qiE 'verify|bad|crc' || fail "verify failed but not with a verify error: $out"
lab_log "corruption detected as expected: $(echo "$out" | head -n 2 | tr '\n' ' ')"
dom_destroy sc1
