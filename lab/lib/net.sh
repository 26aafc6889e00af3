# The guest's vif: dom0's bridge, a TCP stream, netback unbound and bound
# again.  Part of the lab library (lab/lib/lab.sh).
# shellcheck shell=bash

# Guests get a vif on dom0's bridge xenbr0 (10.99.0.1, lab/dom0/overlay/init); the
# guest is 10.99.0.2.  Nothing leaves the QEMU machine.

NET_GUEST_IP=10.99.0.2
NET_DOM0_IP=10.99.0.1
# The guest's interface, netcat and ping (the Debian guest: enX0, busybox's).
NET_IF=${NET_IF:-eth0}
NET_NC=${NET_NC:-nc}
NET_PING=${NET_PING:-ping}
# net_vif [MAC]: the xl config line of a vif on the bridge, for dom_create.
# type=vif: no emulated NIC beside it for HVM guests (dom0 has no tap).
# shellcheck disable=SC2120 # scenarios may pass a MAC
net_vif() { echo "vif = [ 'bridge=xenbr0,mac=${1:-00:16:3e:5a:00:02},type=vif' ]"; }

# net_up NAME: address the guest's interface and check that dom0 answers.
net_up() {
	dom_run "$1" "ip addr add $NET_GUEST_IP/24 dev $NET_IF && ip link set $NET_IF up &&
		i=0; until $NET_PING -c 1 -W 1 $NET_DOM0_IP >/dev/null; do i=\$((i+1)); [ \$i -ge 20 ] && exit 1; done; echo up" 60
}

# net_stream_start NAME MIB: dom0 sends MIB MiB of random data (checksummed
# on both ends) over TCP to the guest, at most ~5 MiB/s so that the stream
# outlasts a hibernation started in its middle.  The guest records the
# received size and sha256 when the sender closes.
net_stream_start() {
	local name=$1 mib=$2
	# The random data is made once per size and lab boot (200 MiB take
	# dom0 most of a minute); the guest checksums what each stream brings.
	dom0_run -t 120 "[ \"\$(stat -c %s /scratch/net.bin 2>/dev/null)\" = $((mib * 1048576)) ] && [ -s /scratch/net.sum ] ||
	{ rm -f /scratch/net.sum && head -c ${mib}M /dev/urandom > /scratch/net.bin.tmp && mv /scratch/net.bin.tmp /scratch/net.bin &&
		sha256sum < /scratch/net.bin | cut -d' ' -f1 > /scratch/net.sum.tmp && mv /scratch/net.sum.tmp /scratch/net.sum; } || exit 1
cat > /scratch/net-send.sh <<'EOS'
#!/bin/sh
i=0
while [ \$i -lt $mib ]; do
	dd if=/scratch/net.bin bs=1M skip=\$i count=1 2>/dev/null || exit 1
	i=\$((i + 1))
	[ \$((i % 5)) = 0 ] && sleep 1
done
EOS
chmod +x /scratch/net-send.sh" >/dev/null || return 1
	dom_run "$name" "rm -f /tmp/net.sum /tmp/net.dd
cat > /tmp/net-recv.sh <<'EOS'
#!/bin/sh
dd bs=65536 2>/tmp/net.dd | sha256sum | cut -d' ' -f1 > /tmp/net.sum.tmp && mv /tmp/net.sum.tmp /tmp/net.sum
EOS
chmod +x /tmp/net-recv.sh
$NET_NC -l -p 5001 -e /tmp/net-recv.sh </dev/null >/dev/null 2>&1 &
echo listening" 30 >/dev/null || return 1
	# A sender left from an earlier stream (a cycle run again) must not
	# write its exit status over this one's.
	dom0_run -t 30 "[ -s /scratch/net-send.pid ] && kill \$(cat /scratch/net-send.pid) 2>/dev/null
rm -f /scratch/net-send.rc
(busybox nc -w 10 $NET_GUEST_IP 5001 -e /scratch/net-send.sh > /scratch/net-send.log 2>&1; echo \$? > /scratch/net-send.rc) > /dev/null 2>&1 &
echo \$! > /scratch/net-send.pid
echo started" >/dev/null
}

# net_rx_bytes NAME: bytes received on the guest's interface.
net_rx_bytes() { dom_run "$1" "cat /sys/class/net/$NET_IF/statistics/rx_bytes" 30; }

# net_stream_check NAME TIMEOUT: wait for the stream's end; succeed when the
# guest's checksum matches dom0's.
net_stream_check() {
	local name=$1 t=$2 want got
	want=$(dom0_run "cat /scratch/net.sum") || { echo "no checksum in dom0"; return 1; }
	want=${want//[$'\r\n ']/}
	got=$(dom_run "$name" "i=0; until [ -s /tmp/net.sum ]; do i=\$((i+1)); [ \$i -ge $((t * 2)) ] && exit 1; sleep 0.5; done; cat /tmp/net.sum" $((t + 30))) ||
		{ echo "stream did not end within ${t}s ($(net_rx_bytes "$name") bytes received on $NET_IF)"; return 1; }
	[ -n "$want" ] && [ "$got" = "$want" ] || { echo "sha256 dom0 $want guest $got"; return 1; }
	echo "sha256 $got, $(dom_run "$name" 'tail -n 1 /tmp/net.dd' 30)"
}

# net_backend_unbind DOMID: netback lets go of the domain's first vif
# without telling the frontend (its xenstore state stays Connected): a
# backend that stopped answering.
net_backend_unbind() {
	dom0_run -t 30 "echo -n vif-$1-0 > /sys/bus/xen-backend/drivers/vif/unbind"
}

# net_backend_bind DOMID: bind netback to the vif again and do what xl's
# vif-bridge hotplug script did when it created the domain (bridge port
# up, hotplug-status), which netback waits for before it connects.
net_backend_bind() {
	local be=/local/domain/0/backend/vif/$1/0
	dom0_run -t 30 "echo -n vif-$1-0 > /sys/bus/xen-backend/drivers/vif/bind" || return 1
	dom0_run -t 60 "i=0; until ip link show vif$1.0 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -ge 50 ] && exit 1; sleep 0.2; done
ip link set vif$1.0 master xenbr0 && ip link set vif$1.0 up && xenstore-write $be/hotplug-status connected" >/dev/null
}

# net_backend_back NAME DOMID: bind netback again (net_backend_bind), then
# the vif must answer ping within 60 s with both ends Connected.  Records
# the ping-after-bind-s metric; prints the gap.  Fails the scenario if not.
net_backend_back() {
	local name=$1 id=$2 gap st
	net_backend_bind "$id" || fail "netback did not come back for vif-$id-0"
	gap=$(net_ping_gap "$name") || {
		dom_run "$name" 'dmesg | grep -E "vif|netfront" | tail -n 20' 30 | sed 's/^/# /' >&2
		fail "no ping answer within 60 s of netback coming back"
	}
	lab_metric ping-after-bind-s "$gap" >&2
	st=$(xenbus_connected "$id" vif 0) || fail "vif frontend/backend states are '$st', not Connected"
	echo "$gap"
}

# net_ping_gap NAME: seconds (guest clock) until the guest's first answered
# ping to dom0 (one-second tries, at most 60).
net_ping_gap() {
	dom_run "$1" "t0=\$(date +%s); i=0; until $NET_PING -c 1 -W 1 $NET_DOM0_IP >/dev/null; do i=\$((i+1)); [ \$i -ge 60 ] && exit 1; done; echo \$((\$(date +%s) - t0))" 90
}

# net_guest_for_abort NAME: a guest with a vif, network up, a 16 MiB fio
# pattern on xvda; fails the scenario otherwise.
net_guest_for_abort() {
	dom_create "$1" 1 "$(net_vif)" || fail "$1 did not become ready"
	net_up "$1" >/dev/null || fail "no ping answer from dom0 over the vif"
	fio_write "$1" 16M >/dev/null || fail "fio write failed"
}

# net_silent_backend_abort NAME TIMEOUT [METRIC]: netback stops answering
# (net_backend_unbind) a guest made by net_guest_for_abort NAME, with
# IPv6 off on its vif so that it sends nothing by itself (a transmit left
# unanswered would fail the freeze a step earlier); then echo disk must fail
# because netfront's freeze gave up on the backend after TIMEOUT seconds
# (netfront's bound on each wait of its freeze, XENNET_TIMEOUT: 5).
# METRIC records the attempt's seconds.  Fails the scenario otherwise.
net_silent_backend_abort() {
	local name=$1 t=$2 id tx0
	id=$(dom_id "$name")
	dom_run "$name" "echo 1 > /proc/sys/net/ipv6/conf/$NET_IF/disable_ipv6" 30 >/dev/null ||
		fail "cannot turn IPv6 off on $NET_IF"
	tx0=$(dom_run "$name" "cat /sys/class/net/$NET_IF/statistics/tx_packets" 30)
	net_backend_unbind "$id" || fail "cannot unbind vif-$id-0 in dom0"
	lab_log "unbound vif-$id-0; backend state $(dom0_run -t 30 "xenstore-read /local/domain/0/backend/vif/$id/0/state")"
	hib_must_abort "$name" "a silent network backend" "${3:-}" \
		"echo \"tx_packets \$(cat /sys/class/net/$NET_IF/statistics/tx_packets)\""
	dom_run "$name" "dmesg | grep -E 'backend .* did not close within $t s'" 30 >/dev/null || {
		dom_run "$name" 'dmesg | grep -E "vif|netfront|PM: " | tail -n 15' 30 | sed 's/^/# /' >&2
		fail "netfront did not report the backend timeout ($NET_IF tx_packets $tx0 before the unbind; guest: ${HIB_ABORT_OUT//$'\n'/; })"
	}
}
