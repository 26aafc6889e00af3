#!/usr/bin/env bash
# s4-net-backend-silent: netback stops answering (unbound from the guest's
# vif in dom0, its xenstore state left at Connected) before the guest
# hibernates.  xen-netfront's freeze must give up within
# its bound (5 s) and hibernation must fail, leaving the same
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
TIMEOUT=5 # netfront's bound on each wait of its freeze
lab_boot
net_guest_for_abort "$NAME"
id=$DOM_ID
net_silent_backend_abort "$NAME" "$TIMEOUT" silent-abort-s
FIO_TIMEOUT=120 fio_verify "$NAME" 16M || fail "xvda does not work, or its data does not verify, after the aborted hibernation"

gap=$(net_backend_back "$NAME" "$id") || exit 1
lab_log "vif reconnected: ping answered after ${gap}s, both ends Connected"
dom_run "$NAME" 'dmesg | grep -E "vif-0|xen_netfront" | tail -n 6' 30 | sed 's/^/# /' >&2
dom_destroy "$NAME"
