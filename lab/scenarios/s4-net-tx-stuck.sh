#!/usr/bin/env bash
# s4-net-tx-stuck: netback goes away (unbound in dom0, its xenstore state
# left at Connected) and the guest then transmits: the packet stays on the
# transmit ring, granted to a backend that will never answer.  xen-netfront's
# freeze must give up waiting for the ring within
# its bound (5 s), report it, and hibernation must fail with the
# same domain running, disks working and the vif still Connected.  Once
# netback is bound again it takes the rings over and ping must answer.
# lab-min-s: 170
. "$(dirname "$0")/../lib/lab.sh"
NAME=ntxstuck
TIMEOUT=5 # netfront's bound on each wait of its freeze
lab_boot
net_guest_for_abort "$NAME"
id=$DOM_ID
net_backend_unbind "$id" || fail "cannot unbind vif-$id-0 in dom0"
# One ping (or the ARP request before it) that nobody takes off the ring.
dom_run "$NAME" "ping -c 1 -W 1 $NET_DOM0_IP >/dev/null && echo answered" 30 | grep -q answered &&
	fail "ping answered with netback unbound: the unbind did not take"
hib_must_abort "$NAME" "a transmit stuck on the ring" tx-stuck-abort-s
dom_run "$NAME" "dmesg | grep -E 'transmits still in flight after $TIMEOUT s'" 30 >/dev/null || {
	dom_run "$NAME" 'dmesg | grep -E "vif|netfront|PM: " | tail -n 15' 30 | sed 's/^/# /' >&2
	fail "netfront did not report the transmits in flight"
}
st=$(dom0_run -t 30 "xenstore-read /local/domain/$id/device/vif/0/state" | tr -d '\n')
[ "$st" = 4 ] || fail "the aborted freeze left the vif frontend in state '$st', not Connected"
FIO_TIMEOUT=120 fio_verify "$NAME" 16M || fail "xvda does not work, or its data does not verify, after the aborted hibernation"

gap=$(net_backend_back "$NAME" "$id") || exit 1
lab_log "vif back: ping answered after ${gap}s, both ends Connected"
# With the ring drained, the same guest hibernates and a new domain restores it.
dom_hibernate_and_restore "$NAME" >/dev/null || fail "hibernation after netback came back failed: $HIB_FAIL"
gap=$(net_ping_gap "$NAME") || fail "ping to dom0 did not answer within 60 s of the restore"
FIO_TIMEOUT=120 fio_verify "$NAME" 16M || fail "xvda's data does not verify after the restore"
lab_log "restored as domid $DOM_ID: ping answered after ${gap}s, data verified"
dom_destroy "$NAME"
