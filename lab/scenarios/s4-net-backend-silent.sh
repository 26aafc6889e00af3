#!/usr/bin/env bash
# s4-net-backend-silent: netback stops answering (unbound from the guest's
# vif in dom0, its xenstore state left at Connected) before the guest
# hibernates.  xen-netfront's freeze must give up within
# xen_netfront.freeze_timeout and hibernation must fail, leaving the same
# domain running with working disks.  Once netback is bound again, the vif
# must reconnect by itself and ping must answer.
#
# The guest must send nothing once netback is gone: a transmit it cannot
# complete makes the freeze fail one step earlier, waiting for the transmit
# ring (s4-net-tx-stuck covers that).  So IPv6 is off on eth0
# (router solicitations, MLD reports) and the test checks that eth0's
# transmit counter did not move between the unbind and the hibernation.
. "$(dirname "$0")/../lib/lab.sh"
NAME=nsilent
TIMEOUT=${NET_SILENT_FREEZE_TIMEOUT:-5}
lab_boot
net_guest_for_abort "$NAME" "$TIMEOUT"
dom_run "$NAME" "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6" 30 >/dev/null ||
	fail "cannot turn IPv6 off on eth0"
id=$DOM_ID
be=vif-$id-0
bepath=/local/domain/0/backend/vif/$id/0
tx0=$(dom_run "$NAME" "cat /sys/class/net/eth0/statistics/tx_packets" 30)
net_backend_unbind "$id" || fail "cannot unbind $be in dom0"
lab_log "unbound $be; backend state $(dom0_run -t 30 "xenstore-read $bepath/state")"
hib_must_abort "$NAME" "a silent network backend" silent-abort-s \
	'echo "tx_packets $(cat /sys/class/net/eth0/statistics/tx_packets)"'
dom_run "$NAME" "dmesg | grep -E 'backend .* did not close within $TIMEOUT s'" 30 >/dev/null || {
	dom_run "$NAME" 'dmesg | grep -E "vif|netfront|PM: " | tail -n 15' 30 | sed 's/^/# /' >&2
	fail "netfront did not report the backend timeout (eth0 tx_packets $tx0 before the unbind; guest: ${HIB_ABORT_OUT//$'\n'/; })"
}
FIO_TIMEOUT=120 fio_verify "$NAME" 16M || fail "xvda does not work, or its data does not verify, after the aborted hibernation"

gap=$(net_backend_back "$NAME" "$id") || exit 1
lab_log "vif reconnected: ping answered after ${gap}s, both ends Connected"
dom_run "$NAME" 'dmesg | grep -E "vif-0|xen_netfront" | tail -n 6' 30 | sed 's/^/# /' >&2
dom_destroy "$NAME"
