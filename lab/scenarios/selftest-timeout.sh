#!/usr/bin/env bash
# selftest-timeout: a guest that never prints its ready marker (kernel
# argument lab.noready) must make dom_create fail on a timeout (30 s after the
# guest's first console line), with console tails in its output.
. "$(dirname "$0")/../lib/lab.sh"
lab_boot
if out=$(DOM_CMDLINE_EXTRA=lab.noready DOM_READY_TIMEOUT=${SELFTEST_READY_TIMEOUT:-30} dom_create st1 2>&1); then
	fail "dom_create succeeded for a guest that never announced itself"
fi
echo "$out" | tail -n 20
echo "$out" | grep -q 'never reported ready' || fail "no timeout message from dom_create"
echo "$out" | grep -q -- '----- domU console' || fail "no console tails in the failure output"
echo "$out" | grep -A3 -- '----- domU console.*guest-st1.log' | grep -q '^  \[' || fail "console tails do not show the guest's console"
rm -f "$LAB_SCEN_LOG/reason"
dom_destroy st1
