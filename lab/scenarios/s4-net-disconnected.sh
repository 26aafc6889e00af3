#!/usr/bin/env bash
# s4-net-disconnected: xen-netfront while a hibernation has it disconnected,
# and what it remembers of a hibernation once that is over.
#
# 1. An XDP frame handed to the vif after its freeze (as a redirect from
#    another device, or its own XDP_TX, can do at any time): the test module
#    xdpsend calls ndo_xdp_xmit() from its freeze_late callback, in a
#    pm_test=platform round.  netfront must refuse it (-ENETDOWN), its rings
#    and queues are gone.  The same call while connected sends the frame
#    (dom0 counts it), so the module does reach the driver.
# 2. After the restore of that round, netfront has asked the Closed backend
#    to connect again and ignores the Closed it may still read; once the
#    backend has shown any other state, a Closed is real and must close the
#    frontend.  netback is unbound in the round's pause, so nobody answers;
#    then dom0 removes the backend's state node (the frontend reads Unknown)
#    and, once the guest has handled that, writes Closed: the frontend must
#    go Closed.
# 3. A freeze that gave up on a silent backend, then a Xen save and restore
#    (a new backend, which connects): the frontend must not act on the
#    given-up freeze any more.  `xl network-detach` closes the new backend;
#    the guest must not log "backend closed late, reconnecting", nor write
#    to the frontend's xenstore directory that the detach deletes.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
TIMEOUT=5
# NET_DISCONNECTED_PARTS: the parts to run (to see each one fail on a
# kernel that an earlier part crashes or fails).
PARTS=" ${NET_DISCONNECTED_PARTS:-1 2 3} "
part() { [[ $PARTS == *" $1 "* ]]; }
lab_boot

# xenwatch_barrier DOMID: returns once the guest's xenwatch thread has
# handled every watch event fired before the call.  xenwatch handles events
# in order, one at a time, and the guest's sysrq watch clears
# control/sysrq before it handles the key ('h' only prints the help).
xenwatch_barrier() {
	dom0_run -t 60 "xenstore-write /local/domain/$1/control/sysrq h &&
		i=0; while [ -n \"\$(xenstore-read /local/domain/$1/control/sysrq)\" ]; do
			i=\$((i+1)); [ \$i -ge 200 ] && exit 1; sleep 0.1; done" >/dev/null
}

# --- 1. an XDP frame for a frozen vif -------------------------------------
if part 1 || part 2; then
	ramdisk=$(guest_module_ramdisk xdpsend) || fail "no initramfs with the xdpsend module"
	DOM_RAMDISK=$ramdisk dom_create nrule 1 "$(net_vif)" || fail "nrule did not become ready"
	net_up nrule >/dev/null || fail "no ping answer from dom0 over the vif"
	id=$DOM_ID
	fe=/local/domain/$id/device/vif/0
	be=/local/domain/0/backend/vif/$id/0
	vif_rx() { dom0_run -t 30 "cat /sys/class/net/vif$id.0/statistics/rx_packets" | tr -d '\r\n '; }
	rx0=$(vif_rx)
	if part 1; then
		out=$(dom_run nrule 'insmod /lib/xdpsend.ko && echo 1 > /sys/module/xdpsend/parameters/send &&
			cat /sys/module/xdpsend/parameters/result' 60) || fail "cannot load xdpsend: $out"
		[ "$out" = sent ] || fail "an XDP frame sent while connected was not taken: $out"
		end=$((SECONDS + 10))
		until [ "$(vif_rx)" -gt "$rx0" ]; do
			[ $SECONDS -lt $end ] || fail "dom0 did not receive the XDP frame sent while connected (vif rx_packets $rx0)"
			sleep 1
		done
		dom_run nrule 'echo 1 > /sys/module/xdpsend/parameters/armed' 30 >/dev/null || fail "cannot arm xdpsend"
	fi

	# --- 2. a Closed read after another state closes the frontend -------------
	# The freeze closes both ends; the PM core then waits 5 s before
	# restoring, and dom0 unbinds netback in that pause.  dom0 watches
	# from before the hibernation starts: the guest's agent, frozen with
	# user space, answers only once the round is over.
	dom0_run -t 30 "rm -f /scratch/nrule-unbind.rc
(i=0; until [ \"\$(xenstore-read $fe/state)\" = 6 ]; do i=\$((i+1)); [ \$i -ge 1200 ] && exit 1; sleep 0.1; done
	echo -n vif-$id-0 > /sys/bus/xen-backend/drivers/vif/unbind; echo \$? > /scratch/nrule-unbind.rc) >/dev/null 2>&1 &
echo watching" >/dev/null || fail "cannot start dom0's watch of the vif"
	dom_run nrule "echo platform > /sys/power/pm_test &&
		(echo disk > /sys/power/state; echo \$? > /tmp/pmt.rc; echo none > /sys/power/pm_test) >/dev/null 2>&1 &
		echo started" 240 >/dev/null || fail "cannot start the pm_test hibernation"
	rc=$(dom_run nrule 'i=0; until [ -s /tmp/pmt.rc ]; do i=$((i+1)); [ $i -ge 240 ] && exit 1; sleep 0.5; done; cat /tmp/pmt.rc' 150) ||
		fail "the pm_test hibernation did not end"
	[ "$rc" = 0 ] || fail "the pm_test hibernation failed (rc $rc)"
	[ "$(dom0_run -t 30 'cat /scratch/nrule-unbind.rc 2>/dev/null' | tr -d '\r\n ')" = 0 ] ||
		fail "dom0 did not see the vif close at freeze, or could not unbind netback ($(xenbus_states "$id" vif 0))"
	if part 1; then
		out=$(dom_run nrule 'cat /sys/module/xdpsend/parameters/result' 30)
		[ "$out" = refused:-100 ] || fail "an XDP frame for the frozen vif got '$out', not refused:-100 (ENETDOWN)"
		lab_log "XDP frame at freeze_late: $out"
	fi
	st=$(xenbus_states "$id" vif 0)
	[ "$st" = "1 6" ] || fail "after the restore the vif states are '$st', not '1 6' (frontend asking, backend Closed and unbound)"
	lab_log "restored: frontend Initialising, backend Closed and unbound"
	dom0_run -t 30 "xenstore-rm $be/state" || fail "cannot remove $be/state"
	xenwatch_barrier "$id" || fail "the guest's xenwatch did not handle a sysrq within 20 s"
	dom0_run -t 30 "xenstore-write $be/state 6" || fail "cannot write $be/state"
	end=$((SECONDS + 20))
	until st=$(xenbus_states "$id" vif 0); [ "${st%% *}" = 6 ]; do
		[ $SECONDS -lt $end ] || {
			dom_run nrule 'dmesg | grep -E "vif|netfront" | tail -n 10' 30 | sed 's/^/# /' >&2
			fail "the backend went Unknown then Closed, and the frontend stayed at '${st%% *}' for 20 s"
		}
		sleep 1
	done
	lab_log "backend Unknown then Closed: frontend Closed"
	bad=$(dom_warnings nrule) && [ -z "$bad" ] || fail "the guest warned: $bad"
	dom_destroy nrule
fi

# --- 3. a given-up freeze does not outlive a Xen save and restore ---------
part 3 || exit 0
net_guest_for_abort nstale
net_silent_backend_abort nstale "$TIMEOUT"
dom0_run -t 300 'xl save nstale /scratch/save/nstale.chk' || fail "xl save failed"
dom0_run -t 300 'xl restore /scratch/save/nstale.chk && rm -f /scratch/save/nstale.chk' || fail "xl restore failed"
id=$(dom_id nstale)
net_ping_gap nstale >/dev/null || fail "no ping answer from dom0 after the Xen restore"
st=$(xenbus_connected "$id" vif 0 30) || fail "after the Xen restore the vif states are '$st', not Connected"
lab_log "Xen restore onto domain $id: vif Connected, ping answers"
dom0_run -t 120 'xl network-detach nstale 0' || fail "xl network-detach failed"
# The frontend device goes once the detach deleted its directory; xenwatch
# handled the backend's Closed before that.
dom_run nstale 'i=0; while [ -e /sys/bus/xen/devices/vif-0 ]; do i=$((i+1)); [ $i -ge 60 ] && exit 1; sleep 0.5; done' 60 >/dev/null ||
	fail "vif-0 is still there 30 s after the detach"
late=$(dom_run nstale 'dmesg | grep -c "backend closed late" || true' 30)
[ "$late" = 0 ] || {
	dom_run nstale 'dmesg | grep -E "vif|netfront" | tail -n 10' 30 | sed 's/^/# /' >&2
	fail "the freeze given up before the Xen save acted on the new backend's Closed at detach ('backend closed late' $late times)"
}
left=$(dom0_run -t 30 "xenstore-ls /local/domain/$id/device/vif 2>/dev/null | head -n 3")
[ -z "$left" ] || fail "the frontend wrote into its directory after the detach deleted it: $left"
bad=$(dom_warnings nstale) && [ -z "$bad" ] || fail "the guest warned: $bad"
FIO_TIMEOUT=120 fio_verify nstale 16M || fail "xvda does not verify after the Xen restore"
dom_destroy nstale
