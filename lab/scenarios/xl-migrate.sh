#!/usr/bin/env bash
# xl-migrate: live-migrate a domU to localhost while fio write+verify runs.
# No ssh: "xl migrate -s '' DOM 'xl migrate-receive'" runs the receiver as a
# local command ("-s ''" makes xl run <host> itself instead of "ssh <host> xl
# migrate-receive").
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
dom_create mig1 || fail "mig1 did not become ready"
old=$DOM_ID
fio_write mig1 64M || fail "fio write failed"
fio_start mig1 16M || fail "fio loop did not start"
sleep 5
t=$(_now)
dom0_run -t 400 "xl migrate -s '' mig1 'exec xl migrate-receive'" || fail "xl migrate failed"
lab_metric migrate-s "$(_since "$t")"
new=$(dom_id mig1)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new domain after migration (old $old, new '$new')"
dom0_run 'xl list' | sed 's/^/  /'
dom_run mig1 'echo alive; cat /tmp/fio.count 2>/dev/null; true' 60 || fail "guest agent dead after migration"
sleep 5
out=$(fio_stop mig1) || fail "fio loop reported errors across migration: $out"
lab_log "fio loop passes/failures: $out"
fio_verify mig1 64M || fail "64 MiB pattern does not verify after migration"
dom_destroy mig1
