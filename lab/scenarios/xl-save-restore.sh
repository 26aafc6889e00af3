#!/usr/bin/env bash
# xl-save-restore: a fio write+verify loop keeps running across 3 xl save /
# xl restore cycles with 0 verify errors; a 64 MiB pattern written before the
# cycles still verifies after them.  The guest has a vif: dom0 answers its
# ping after each restore (Xen's own resume path of xen-netfront).  The
# write-through setting given to xvdc is kept, xvda stays write-back.
# lab-min-s: 220
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom_create sr1 1 "$(net_vif)" || fail "sr1 did not become ready"
net_up sr1 >/dev/null || fail "no ping answer from dom0 over the vif"
fio_write sr1 64M || fail "fio write failed"
fio_start sr1 16M || fail "fio loop did not start"
write_through sr1 xvdc || fail "cannot make xvdc write-through"
out=$(write_caches_kept sr1) || fail "before xl save: $out"
sleep 5
for c in 1 2 3; do
	t=$(_now)
	dom0_run -t 300 'xl save sr1 /scratch/save/sr1.chk' || fail "xl save #$c failed"
	lab_metric save-$c-s "$(_since "$t")"
	t=$(_now)
	dom0_run -t 300 'xl restore /scratch/save/sr1.chk && rm -f /scratch/save/sr1.chk' || fail "xl restore #$c failed"
	lab_metric restore-$c-s "$(_since "$t")"
	dom_run sr1 'echo alive; cat /tmp/fio.count 2>/dev/null; true' 60 || fail "guest agent dead after restore #$c"
	gap=$(net_ping_gap sr1) || fail "no ping answer from dom0 within 60 s of restore #$c"
	lab_metric ping-gap-$c-s "$gap"
	out=$(write_caches_kept sr1) || fail "after restore #$c: $out"
	sleep 3
done
out=$(fio_stop sr1) || fail "fio loop reported errors across save/restore: $out"
lab_log "fio loop passes/failures: $out"
fio_verify sr1 64M || fail "64 MiB pattern does not verify after 3 save/restore cycles"
dom_destroy sr1
