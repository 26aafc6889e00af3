#!/usr/bin/env bash
# s4-backend-changed: the backends of the disks and the vif offer other
# features, and two disks another size, when the image is restored: first
# each change alone, one per disk, then many at once.  A PVH guest of 768
# MiB with two vCPUs, a vif and eleven disks, booted with
# xen_blkfront.max_ring_page_order=1: each disk uses two rings of two
# pages, persistent grants, discard, 32 segments and a write-back cache; a
# fio write+verify loop runs on xvda across both hibernations.
#
# Cycle 1, each change alone (the new domain's loading kernel is paused at
# its first "Image loading progress" line to change what the backends
# offer before the image's kernel reconnects): xvdf's backend offers one
# ring page, xvdg's one queue, xvdh's 16 segments, xvdi's no indirect
# segments; xvdj is attached without discard, xvdk on a dom0 loop device
# whose cache is write-through (no flush), xvdd on a copy of its file grown
# from 32 to 64 MiB, xvde on one shrunk to 16 MiB; the vif's backend no
# longer offers IPv6 checksum offload.  Pass: each disk changed only in
# what its backend changed (xenstore and sysfs), xvdd has its new size,
# xvde is refused as a disk that shrank, Closed at both ends; the vif no
# longer offloads IPv6 checksums and still scatter-gathers and segments.
#
# Cycle 2, many at once, on fresh backends: dom0 turns persistent grants
# off for every disk, xvda is attached without discard and its backend
# offers one ring of one page and 16 segments, so the restored kernel
# chooses less than the loading kernel did; the vif's backend no longer
# offers scatter-gather or TCP segmentation offload.  Pass: xvda uses one
# ring of one page (neither ring-page-order nor multi-queue-num-queues left
# in its directory), no persistent grants, no discard, 16 segments; the
# other disks are back to what their new backends offer, without
# persistent grants; xvde still refused; the vif without scatter-gather and
# TSO, with IPv6 checksum offload again, and its MTU down from 9000 to
# 1500 (more needs scatter-gather).
#
# After each cycle: the fio loop goes on with no error, every disk reads
# back what it held and takes a new write, dom0 answers over the vif; at
# the end xvda's pattern and xvdc's files verify; no warning, BUG or oops.
# lab-min-s: 420
. "$(dirname "$0")/../lib/lab.sh"
NAME=changed
PARAMS=/sys/module/xen_blkback/parameters
DISKS="xvda xvdc xvdd xvdf xvdg xvdh xvdi xvdj xvdk"	# all but swap and xvde
SMALL="xvdd xvdf xvdg xvdh xvdi xvdj xvdk"		# checked by their data
NETFEAT="tx-scatter-gather tx-tcp-segmentation tx-checksum-ipv6"
# vbd_id DEV: the xenstore id of xvdX (major 202, 16 minors per disk).
vbd_id() { local i; i=$(printf '%d' "'${1#xvd}"); echo $((51712 + (i - 97) * 16)); }
XVDA=$(vbd_id xvda) XVDE=$(vbd_id xvde)
lab_boot
orig=$(dom0_run "cat $PARAMS/max_queues $PARAMS/feature_persistent" | tr '\n' ' ') || fail "dom0 has no xen_blkback parameters"
read -r orig_queues orig_persistent <<< "$orig"
lab_on_exit 'dom0_run "echo $orig_queues > $PARAMS/max_queues; echo $orig_persistent > $PARAMS/feature_persistent" >/dev/null 2>&1'
lab_log "dom0's xen_blkback max_queues $orig_queues, feature_persistent $orig_persistent; now 2 and Y until cycle 2"
dom0_run "echo 2 > $PARAMS/max_queues && echo Y > $PARAMS/feature_persistent" >/dev/null || fail "cannot set xen_blkback's parameters"
# xvdk's dom0 loop device, made while the guest is off.
LOOP_OFF="cd /scratch/$NAME && { [ ! -s k.lo ] || losetup -d \$(cat k.lo) 2>/dev/null; rm -f k.lo k.dev; }"
lab_on_exit 'dom0_run "$LOOP_OFF" >/dev/null 2>&1'
# shellcheck disable=SC2034 # for dom_create
DOM_DISKS="xvda data.img
xvdb swap.img
xvdc ext4.img
xvdd grow.img
xvde shrink.img
xvdf f.img
xvdg g.img
xvdh h.img
xvdi i.img
xvdj j.img
xvdk k.img"
# shellcheck disable=SC2034 # for dom_create
DOM_MAKE_DISKS="$LOOP_OFF; rm -f ./*.img && truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
	cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img && truncate -s 32M grow.img shrink.img &&
	truncate -s 8M f.img g.img h.img i.img j.img k.img"
DOM_CMDLINE_EXTRA="${DOM_CMDLINE_EXTRA:-} xen_blkfront.max_ring_page_order=1" DOM_MEM=768 dom_create "$NAME" 2 "$(net_vif)" ||
	fail "$NAME did not become ready"
net_up "$NAME" >/dev/null || fail "no ping answer from dom0 over the vif"
offloads=$(dom_run "$NAME" "netfeat $NET_IF $NETFEAT" 30)
[ "$offloads" = "1 1 1" ] || fail "the vif before the hibernation: '$offloads', want scatter-gather, TSO and IPv6 checksum offload on ($NETFEAT)"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
dom_run "$NAME" "for d in $SMALL; do dd if=/dev/urandom of=/dev/\$d bs=1M count=1 oflag=direct 2>/dev/null || exit 1; done" 60 ||
	fail "writing to the small disks failed"

# small_sums: "DEV md5" of the first MiB of each small disk.
small_sums() {
	dom_run "$NAME" "for d in $SMALL; do echo \$d \$(dd if=/dev/\$d bs=1M count=1 iflag=direct 2>/dev/null | md5sum | cut -c1-32); done" 60
}
# small_write_check: each small disk takes a MiB of new data at 1 MiB and
# reads it back; prints the disks that did not.
small_write_check() {
	dom_run "$NAME" "dd if=/dev/urandom of=/tmp/w bs=1M count=1 2>/dev/null; w=\$(md5sum < /tmp/w)
		for d in $SMALL; do
			dd if=/tmp/w of=/dev/\$d bs=1M seek=1 oflag=direct 2>/dev/null &&
				[ \"\$(dd if=/dev/\$d bs=1M skip=1 count=1 iflag=direct 2>/dev/null | md5sum)\" = \"\$w\" ] || echo \$d
		done" 120 | tr '\n' ' '
}
sums=$(small_sums) && [ "$(wc -l <<< "$sums")" = 7 ] || fail "cannot read the small disks back: '$sums'"

# shapes ID: one line per disk of DISKS, "DEV order queues persistent hwq
# discard segs cache": its frontend's ring-page-order and
# multi-queue-num-queues and its backend's feature-persistent in xenstore
# ("-" where a node is missing), then from the guest's sysfs its hardware
# queues, discard (1 when discard_max_bytes is not 0), max_segments and
# write_cache (write_back or write_through).
shapes() {
	local id=$1 d xs=
	for d in $DISKS; do
		xs+="echo $d \$(for n in device/vbd/$(vbd_id $d)/ring-page-order device/vbd/$(vbd_id $d)/multi-queue-num-queues; do xenstore-read /local/domain/$id/\$n 2>/dev/null || echo -; done) \$(xenstore-read /local/domain/0/backend/vbd/$id/$(vbd_id $d)/feature-persistent 2>/dev/null || echo -); "
	done
	join <(dom0_run -t 60 "$xs" | sort) <(dom_run "$NAME" "for d in $DISKS; do q=/sys/block/\$d/queue
		echo \$d \$(ls /sys/block/\$d/mq | wc -l) \$([ \"\$(cat \$q/discard_max_bytes)\" = 0 ] && echo 0 || echo 1) \$(cat \$q/max_segments) \$(tr ' ' _ < \$q/write_cache); done" 60 | sort)
}
# check_shapes ID WANT: the disks' shapes against WANT (lines as shapes
# prints them); prints each difference.
check_shapes() {
	local got
	got=$(shapes "$1")
	lab_log "shapes: $(paste -s -d';' <<< "$got")"
	diff <(sort <<< "$2") <(printf '%s\n' "$got") | sed -n 's/^< /want: /p; s/^> /got: /p' | paste -s -d';'
}
# every DEVS LINE: LINE's fields after each of DEVS.
every() { local d; for d in $1; do echo "$d $2"; done; }

base="1 2 1 2 1 32 write_back"
bad=$(check_shapes "$(dom_id "$NAME")" "$(every "$DISKS" "$base")")
[ -z "$bad" ] || fail "the disks before the hibernation: $bad"
fio_start "$NAME" >/dev/null || fail "the fio loop did not start"

# after_cycle N: what every cycle must leave: xvde refused and Closed, the
# fio loop making passes with no error, the small disks holding their data
# and taking writes, dom0 answering over the vif.  Adds to bad.
after_cycle() {
	local c=$1 st p0 got
	st=$(xenbus_connected "$id" vbd $XVDA 30) || bad+="; cycle $c: xvda: states '$st', not Connected"
	st=$(xenbus_states_wait "$id" vbd $XVDE "6 6" 30) || bad+="; cycle $c: xvde: states '$st', not Closed (6 6)"
	p0=$(fio_status "$NAME")
	dom_run "$NAME" "i=0; while [ \"\$(cut -d' ' -f1 /tmp/fio.count)\" -le ${p0%% *} ]; do i=\$((i+1)); [ \$i -lt 120 ] || exit 1; sleep 1; done" 150 >/dev/null ||
		bad+="; cycle $c: the fio loop on xvda made no pass within 120 s of the restore (at '$p0')"
	read -r _ fails <<< "$(fio_status "$NAME")"
	[ "${fails:-x}" = 0 ] || bad+="; cycle $c: the fio loop reports ${fails:-?} failed passes"
	got=$(small_sums)
	[ "$got" = "$sums" ] || bad+="; cycle $c: the small disks do not read back what they held: '$(paste -s -d' ' <<< "$got")'"
	got=$(small_write_check)
	[ -z "$got" ] || bad+="; cycle $c: these disks did not take a write and read it back: $got"
	net_ping_gap "$NAME" >/dev/null || bad+="; cycle $c: no ping answer from dom0 within 60 s over the vif"
}

# Cycle 1.  A cycle repeated after a rig fault boots afresh with the
# configuration the image was taken with (NAME.cfg.image).
cfg=$LAB_RUN/cfg/$NAME.cfg
cp "$cfg" "$cfg.image" || fail "cannot keep the first configuration"
sed -i -e "s|vdev=xvdj,access=rw,|vdev=xvdj,access=rw,no-discard,|" -e "s|/k.img'|/k.dev'|" \
	-e "s|/grow.img'|/grow2.img'|" -e "s|/shrink.img'|/shrink2.img'|" "$cfg"
grep -q "vdev=xvdj,access=rw,no-discard," "$cfg" && grep -q "/k.dev'" "$cfg" && grep -q "grow2.img" "$cfg" && grep -q "shrink2.img" "$cfg" ||
	fail "cannot write cycle 1's configuration"
# backend_write NAME TYPE/DEVID/NODE=VALUE...: write each node of the new
# domain's backends; VALUE - removes the node.
backend_write() {
	local id kv node cmd=
	id=$(dom_id "$1") || return 1
	shift
	for kv; do
		node=/local/domain/0/backend/${kv%%/*}/$id/${kv#*/}
		node=${node%%=*}
		if [ "${kv##*=}" = - ]; then
			cmd+="xenstore-rm $node && "
		else
			cmd+="xenstore-write $node ${kv##*=} && "
		fi
	done
	dom0_run -t 30 "$cmd true" >/dev/null
}
while_loading_1() {
	backend_write "$1" "vbd/$(vbd_id xvdf)/max-ring-page-order=0" "vbd/$(vbd_id xvdg)/multi-queue-max-queues=1" \
		"vbd/$(vbd_id xvdh)/feature-max-indirect-segments=16" "vbd/$(vbd_id xvdi)/feature-max-indirect-segments=-" \
		"vif/0/feature-ipv6-csum-offload=0"
}
# After a fresh boot: the fio loop and the vif's address again.
recover='fio_start "$NAME" >/dev/null && net_up "$NAME" >/dev/null'
HIB_WHILE_OFF="cd /scratch/$NAME &&
	cp --sparse=always grow.img grow2.img && truncate -s 64M grow2.img &&
	cp --sparse=always shrink.img shrink2.img && truncate -s 16M shrink2.img &&
	{ [ -s k.lo ] || losetup -f --show k.img > k.lo; } && echo 'write through' > /sys/block/\$(basename \$(cat k.lo))/queue/write_cache &&
	ln -sfn \$(cat k.lo) k.dev && [ -b k.dev ]" \
HIB_WHILE_LOADING=while_loading_1 hib_cycle "$NAME" "$recover" || fail "cycle 1: hibernation failed: $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "cycle 1: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"
bad=
got=$(check_shapes "$id" "$(every "xvda xvdc xvdd" "$base")
xvdf - 2 1 2 1 32 write_back
xvdg 1 - 1 1 1 32 write_back
xvdh 1 2 1 2 1 16 write_back
xvdi 1 2 1 2 1 11 write_back
xvdj 1 2 1 2 0 32 write_back
xvdk 1 2 1 2 1 32 write_through")
[ -z "$got" ] || bad+="; cycle 1: each disk changed in what its backend changed only: $got"
size=$(dom_run "$NAME" 'cat /sys/block/xvdd/size' 30)
[ "$size" = 131072 ] || bad+="; cycle 1: xvdd has $size sectors, want 131072"
said=$(dom_run "$NAME" "dmesg | grep -E 'vbd-$XVDE: .*shrank from 65536 to 32768 sectors'" 30)
[ -n "$said" ] || bad+="; cycle 1: xvde: no message that it shrank from 65536 to 32768 sectors"
offloads=$(dom_run "$NAME" "netfeat $NET_IF $NETFEAT" 30)
[ "$offloads" = "1 1 0" ] || bad+="; cycle 1: the vif: '$offloads', want scatter-gather and TSO on, IPv6 checksum offload off ($NETFEAT)"
after_cycle 1
[ -z "$bad" ] || fail "${bad#; }"
lab_log "cycle 1: each disk follows its own backend's one change; xvdd grew; xvde refused; the vif without IPv6 checksum offload answers"

# Cycle 2.  The vif at an MTU of 9000, which needs scatter-gather.
mtu=$(dom_run "$NAME" "ip link set $NET_IF mtu 9000 && cat /sys/class/net/$NET_IF/mtu" 30)
[ "$mtu" = 9000 ] || fail "cannot set the vif's MTU to 9000: '$mtu'"
# The fresh boot of a repeated cycle 2 has xvde as the image first saw it,
# so that the restore finds it shrunk again.
sed "s|/shrink2.img'|/shrink.img'|" "$cfg" > "$cfg.image" || fail "cannot keep cycle 1's configuration"
sed -i "s|vdev=xvda,access=rw,|vdev=xvda,access=rw,no-discard,|" "$cfg"
grep -q "vdev=xvda,access=rw,no-discard," "$cfg" || fail "cannot write cycle 2's configuration"
while_loading_2() {
	backend_write "$1" "vbd/$XVDA/max-ring-page-order=0" "vbd/$XVDA/multi-queue-max-queues=1" \
		"vbd/$XVDA/feature-max-indirect-segments=16" \
		"vif/0/feature-sg=0" "vif/0/feature-gso-tcpv4=0" "vif/0/feature-gso-tcpv6=0"
}
HIB_WHILE_OFF="echo N > $PARAMS/feature_persistent" HIB_UNDO_WHILE_OFF="echo Y > $PARAMS/feature_persistent" \
HIB_WHILE_LOADING=while_loading_2 hib_cycle "$NAME" "$recover"' && dom_run "$NAME" "ip link set $NET_IF mtu 9000" 30 >/dev/null' ||
	fail "cycle 2: hibernation failed: $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "cycle 2: off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"
bad=
got=$(check_shapes "$id" "xvda - - 0 1 0 16 write_back
$(every "xvdc xvdd xvdf xvdg xvdh xvdi" "1 2 0 2 1 32 write_back")
xvdj 1 2 0 2 0 32 write_back
xvdk 1 2 0 2 1 32 write_through")
[ -z "$got" ] || bad+="; cycle 2: the disks: $got"
offloads=$(dom_run "$NAME" "netfeat $NET_IF $NETFEAT" 30)
[ "$offloads" = "0 0 1" ] || bad+="; cycle 2: the vif: '$offloads', want scatter-gather and TSO off, IPv6 checksum offload on ($NETFEAT)"
mtu=$(dom_run "$NAME" "cat /sys/class/net/$NET_IF/mtu" 30)
[ "$mtu" = 1500 ] || bad+="; cycle 2: the vif's MTU is '$mtu', want 1500 without scatter-gather (9000 before)"
after_cycle 2
out=$(fio_stop "$NAME") || bad+="; the fio loop on xvda: '$out' (passes failures)"
lab_log "fio loop: $out (passes failures)"
FIO_TIMEOUT=120 fio_verify "$NAME" 32M >/dev/null || bad+="; xvda's fio pattern does not verify"
ext4_check_files "$NAME" || bad+="; the ext4 files on xvdc changed (or no answer)"
w=$(dom_warnings "$NAME") && [ -z "$w" ] || bad+="; the guest warned: $w"
[ -z "$bad" ] || fail "${bad#; }"
lab_log "cycle 2: xvda follows its new backend with the fio loop at $out; the other disks follow theirs; xvde still refused; the vif without sg and TSO answers"
dom_destroy "$NAME"
