#!/usr/bin/env bash
# s4-net: a guest with a vif hibernates in the middle of a TCP stream from
# dom0 (NET_MIB MiB, 200 by default, sha256 on both ends); a NEW domain
# restores it, the stream completes with matching checksums, and ping to
# dom0 answers again (the gap is reported).  Variables for s4-net-multiqueue:
# NET_VCPUS, NET_MIN_QUEUES (queues wanted before), NET_QUEUES_AFTER (the
# backend of the restoring domain offers this many queues), NET_MAC_AFTER
# (the toolstack gives the restoring domain's vif this MAC address: the
# guest must take it, log the change and keep its connections).  The
# kernel that loads the image leaves the vif alone (its netfront's init is
# blacklisted), as a distribution kernel does whose initramfs has no
# xen-netfront: the restored kernel finds the vif's nodes as the toolstack
# created them, Initialising, not closed by a loader;
# NET_LOADER_BINDS_VIF=1 (s4-net-multiqueue) lets the loader's netfront
# take the vif and close it.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=${NET_NAME:-net}
lab_boot
orig_queues=$(dom0_run 'cat /sys/module/xen_netback/parameters/max_queues')
lab_on_exit 'dom0_run "echo $orig_queues > /sys/module/xen_netback/parameters/max_queues" >/dev/null 2>&1'
dom_create "$NAME" "${NET_VCPUS:-1}" "$(net_vif)" || fail "$NAME did not become ready"
net_up "$NAME" >/dev/null || fail "no ping answer from dom0 over the vif"
queues() { dom_run "$NAME" 'ls -d /sys/class/net/eth0/queues/tx-* | wc -l' 30; }
q0=$(queues)
lab_log "eth0 has $q0 queue(s) (dom0 netback max_queues $orig_queues)"
[ -z "${NET_MIN_QUEUES:-}" ] || [ "$q0" -ge "$NET_MIN_QUEUES" ] || fail "eth0 has $q0 queues, want >= $NET_MIN_QUEUES"
net_stream_start "$NAME" "${NET_MIB:-200}" || fail "could not start the TCP stream"
# Hibernate in the middle of the stream: after 20% of it arrived.
want=$(( ${NET_MIB:-200} * 1048576 / 5 ))
end=$((SECONDS + 180))
until rx=$(net_rx_bytes "$NAME") && [ "${rx:-0}" -ge "$want" ]; do
	[ $SECONDS -lt $end ] || fail "stream too slow: $rx bytes after 180 s"
	sleep 1
done
lab_log "hibernating with $rx bytes received"
# The hibernation must cut the stream: it may not have ended yet.
dom_run "$NAME" '[ ! -e /tmp/net.sum ]' 30 >/dev/null || fail "the stream ended before the hibernation"
if [ -n "${NET_QUEUES_AFTER:-}" ]; then
	dom0_run "echo $NET_QUEUES_AFTER > /sys/module/xen_netback/parameters/max_queues" >/dev/null ||
		fail "cannot change netback's max_queues"
fi
if [ -n "${NET_MAC_AFTER:-}" ]; then
	# Read by xl create for the restoring domain only.
	sed -i "s/mac=[0-9a-f:]*/mac=$NET_MAC_AFTER/" "$LAB_RUN/cfg/$NAME.cfg"
	grep -q "mac=$NET_MAC_AFTER" "$LAB_RUN/cfg/$NAME.cfg" || fail "cannot set the new MAC address in the config"
fi
cfg=$LAB_RUN/cfg/$NAME.cfg
if [ -z "${NET_LOADER_BINDS_VIF:-}" ]; then
	# Read by xl create for the restoring domain only: the loader's.
	sed -i 's/^cmdline = "\(.*\)"/cmdline = "\1 initcall_blacklist=netif_init"/' "$cfg"
	grep -q 'initcall_blacklist=netif_init' "$cfg" || fail "cannot blacklist netfront on the loader's command line"
fi
dom_hibernate_and_restore "$NAME" >/dev/null || fail "hibernation failed: $HIB_FAIL"
if [ -z "${NET_LOADER_BINDS_VIF:-}" ]; then
	# The loader's console, from its command line on: netfront never
	# started there.
	loader=$(sed -n '/Command line: .*initcall_blacklist=netif_init/,$p' "$LAB_RUN/console/guest-$NAME.log")
	[ -n "$loader" ] || fail "no console of a loader with netfront blacklisted"
	! grep -a -q 'Initialising Xen virtual ethernet driver' <<< "$loader" ||
		fail "the loading kernel started netfront: it was to leave the vif alone"
fi
lab_metric s4-poweroff-s "$HIB_T_OFF"
lab_metric s4-resume-s "$HIB_T_RESUMED"
gap=$(net_ping_gap "$NAME") || fail "ping to dom0 did not answer within 60 s of the restore"
lab_metric ping-gap-s "$gap"
q1=$(queues)
lab_log "after restore: eth0 has $q1 queue(s), ping answered after ${gap}s"
if [ -n "${NET_QUEUES_AFTER:-}" ] && [ "$q1" != "$NET_QUEUES_AFTER" ]; then
	fail "eth0 has $q1 queues after restore, the new backend offers $NET_QUEUES_AFTER"
fi
if [ -n "${NET_MAC_AFTER:-}" ]; then
	mac=$(dom_run "$NAME" 'cat /sys/class/net/eth0/address' 30)
	[ "$mac" = "$NET_MAC_AFTER" ] || fail "eth0 has MAC $mac after the restore, the toolstack gave $NET_MAC_AFTER"
	said=$(dom_run "$NAME" "dmesg | grep 'changed the MAC address from .* to $NET_MAC_AFTER'" 30) ||
		fail "netfront did not report the MAC address change"
	lab_log "MAC after restore: $mac; guest said: ${said#*] }"
fi
if ! out=$(net_stream_check "$NAME" "${NET_STREAM_TIMEOUT:-300}"); then
	{
		echo "dom0 side:"; dom0_run 'cat /scratch/net-send.rc /scratch/net-send.log 2>&1; ps -ef | grep -v grep | grep "nc \|net-send"; ss -tni 2>&1 | head -n 12; ip -s link show xenbr0'
		echo "guest side:"; dom_run "$NAME" 'ps | grep -v grep | grep "nc \|net-recv\|dd "; cat /proc/net/tcp; ip -s link show eth0; grep -E "^Tcp" /proc/net/snmp' 60
	} 2>&1 | sed 's/^/# /' >&2
	fail "TCP stream across hibernation: $out"
fi
lab_log "TCP stream: $out"
sent=$(dom0_run 'cat /scratch/net-send.rc')
[ "$sent" = 0 ] || fail "dom0's sender ended with rc ${sent:-?}"
dom_run "$NAME" 'dmesg | grep -E "vif-0: .* after [0-9]+ usecs" | tail -n 4' 30 | sed 's/^/# /' >&2
dom_destroy "$NAME"
