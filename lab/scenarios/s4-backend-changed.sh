#!/usr/bin/env bash
# s4-backend-changed: the backends of the disks and the vif offer other
# features, and two disks another size, when the image is restored, all at
# once.  A PVH guest of 384 MiB with two vCPUs and a vif, booted with
# xen_blkfront.max_ring_page_order=1, uses two rings of two pages,
# persistent grants, discard and 32 segments on xvda,
# with a fio write+verify loop running on it across the hibernation.  While
# no domain holds it, dom0 turns persistent grants off, attaches xvda
# without discard, and gives xvdd a copy of its file grown from 32 to 64
# MiB and xvde one of its file shrunk from 32 to 16 MiB.  The new domain's loading kernel connects to what is there
# then; with that kernel paused at its first "Image loading progress"
# line, xvda's backend offers one ring of one page and 16 segments, so
# the restored kernel chooses less than the loading kernel did, and the
# vif's backend no longer offers scatter-gather or TCP segmentation
# offload.  Pass:
# xvda is Connected with one ring, one page (neither ring-page-order nor
# multi-queue-num-queues left in its directory), no persistent grants, no
# discard and 16 segments, and the fio loop goes on with no error; xvdd
# has its new size and reads back what it held; xvde is refused as a disk
# that shrank, Closed at both ends; the vif goes on without scatter-gather
# and TSO (both on before) and dom0 answers over it; xvda's pattern and
# xvdc's files verify; no warning, BUG or oops.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=changed
XVDA=51712 XVDE=51776
PARAMS=/sys/module/xen_blkback/parameters
lab_boot
orig=$(dom0_run "cat $PARAMS/max_queues $PARAMS/feature_persistent" | tr '\n' ' ') || fail "dom0 has no xen_blkback parameters"
read -r orig_queues orig_persistent <<< "$orig"
lab_on_exit 'dom0_run "echo $orig_queues > $PARAMS/max_queues; echo $orig_persistent > $PARAMS/feature_persistent" >/dev/null 2>&1'
lab_log "dom0's xen_blkback max_queues $orig_queues, feature_persistent $orig_persistent; now 2 and Y until the guest is off"
dom0_run "echo 2 > $PARAMS/max_queues && echo Y > $PARAMS/feature_persistent" >/dev/null || fail "cannot set xen_blkback's parameters"
# shellcheck disable=SC2034 # for dom_create
DOM_DISKS="xvda data.img
xvdb swap.img
xvdc ext4.img
xvdd grow.img
xvde shrink.img"
# shellcheck disable=SC2034 # for dom_create
DOM_MAKE_DISKS="rm -f ./*.img && truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
	cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img && truncate -s 32M grow.img shrink.img"
DOM_CMDLINE_EXTRA="${DOM_CMDLINE_EXTRA:-} xen_blkfront.max_ring_page_order=1" DOM_MEM=384 dom_create "$NAME" 2 "$(net_vif)" ||
	fail "$NAME did not become ready"
net_up "$NAME" >/dev/null || fail "no ping answer from dom0 over the vif"
offloads=$(dom_run "$NAME" "netfeat $NET_IF" 30)
[ "$offloads" = "sg 1 tso 1" ] || fail "the vif before the hibernation: '$offloads', want scatter-gather and TSO on"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"
xvdd_sum() { dom_run "$NAME" 'dd if=/dev/xvdd bs=1M count=1 iflag=direct 2>/dev/null | md5sum' 60; }
dom_run "$NAME" 'dd if=/dev/urandom of=/dev/xvdd bs=1M count=1 oflag=direct 2>/dev/null' 60 || fail "writing to xvdd failed"
d_sum=$(xvdd_sum) && [ -n "$d_sum" ] || fail "cannot read xvdd back"

# xvda_shape: "ring-page-order multi-queue-num-queues feature-persistent"
# from xenstore ("-" where a node is missing), then the guest's hardware
# queues, discard_max_bytes and max_segments.
xvda_shape() {
	local id=$1 fe be
	fe=/local/domain/$id/device/vbd/$XVDA be=/local/domain/0/backend/vbd/$id/$XVDA
	echo "$(dom0_run -t 30 "for n in $fe/ring-page-order $fe/multi-queue-num-queues $be/feature-persistent; do xenstore-read \$n 2>/dev/null || echo -; done" | tr '\n' ' ')$(dom_run "$NAME" 'ls /sys/block/xvda/mq | wc -l; cat /sys/block/xvda/queue/discard_max_bytes /sys/block/xvda/queue/max_segments' 30 | tr '\n' ' ')"
}
before=$(xvda_shape "$(dom_id "$NAME")")
lab_log "before: xvda $before"
read -r order queues persistent hwq discard segs <<< "$before"
[ "$order $queues $persistent $hwq $segs" = "1 2 1 2 32" ] && [ "$discard" != 0 ] ||
	fail "xvda before the hibernation: '$before', want ring order 1, 2 rings, persistent grants, discard, 32 segments"
fio_start "$NAME" >/dev/null || fail "the fio loop did not start"

# The new domain: xvda without discard, xvdd and xvde copies of their
# files made while the guest is off, in their new sizes.  A cycle repeated
# after a rig fault boots afresh with the first configuration
# (NAME.cfg.image), on the files as they were.
cfg=$LAB_RUN/cfg/$NAME.cfg
cp "$cfg" "$cfg.image" || fail "cannot keep the first configuration"
sed -i -e "s|vdev=xvda,access=rw,|vdev=xvda,access=rw,no-discard,|" \
	-e "s|/grow.img'|/grow2.img'|" -e "s|/shrink.img'|/shrink2.img'|" "$cfg"
grep -q "vdev=xvda,access=rw,no-discard," "$cfg" && grep -q "grow2.img" "$cfg" && grep -q "shrink2.img" "$cfg" ||
	fail "cannot write the new domain's configuration"
while_loading() {
	local id kv cmd=
	id=$(dom_id "$1") || return 1
	for kv in max-ring-page-order=0 multi-queue-max-queues=1 feature-max-indirect-segments=16; do
		cmd+="xenstore-write /local/domain/0/backend/vbd/$id/$XVDA/${kv%=*} ${kv#*=} && "
	done
	for kv in feature-sg=0 feature-gso-tcpv4=0 feature-gso-tcpv6=0; do
		cmd+="xenstore-write /local/domain/0/backend/vif/$id/0/${kv%=*} ${kv#*=} && "
	done
	dom0_run -t 30 "$cmd true" >/dev/null
}
HIB_WHILE_OFF="echo N > $PARAMS/feature_persistent && cd /scratch/$NAME &&
	cp --sparse=always grow.img grow2.img && truncate -s 64M grow2.img &&
	cp --sparse=always shrink.img shrink2.img && truncate -s 16M shrink2.img" \
HIB_WHILE_LOADING=while_loading hib_cycle "$NAME" 'fio_start "$NAME" >/dev/null' || fail "hibernation failed: $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"

# Every check, each failure named.
bad=
st=$(xenbus_connected "$id" vbd $XVDA 30) || bad+="; xvda: states '$st', not Connected"
after=$(xvda_shape "$id")
lab_log "after: xvda $after"
read -r order queues persistent hwq discard segs <<< "$after"
[ "$order $queues $persistent $hwq $discard $segs" = "- - 0 1 0 16" ] ||
	bad+="; xvda after the restore: '$after', want no ring-page-order or multi-queue-num-queues, no persistent grants, 1 ring, no discard, 16 segments"
p0=$(fio_status "$NAME")
dom_run "$NAME" "i=0; while [ \"\$(cut -d' ' -f1 /tmp/fio.count)\" -le ${p0%% *} ]; do i=\$((i+1)); [ \$i -lt 120 ] || exit 1; sleep 1; done" 150 >/dev/null ||
	bad+="; the fio loop on xvda made no pass within 120 s of the restore (at '$p0')"
out=$(fio_stop "$NAME") || bad+="; the fio loop on xvda: '$out' (passes failures)"
lab_log "fio loop: $out (passes failures)"

size=$(dom_run "$NAME" 'cat /sys/block/xvdd/size' 30)
[ "$size" = 131072 ] || bad+="; xvdd has $size sectors, want 131072"
sum=$(xvdd_sum)
[ "$sum" = "$d_sum" ] || bad+="; xvdd does not read back what it held ('$sum', was '$d_sum')"

said=$(dom_run "$NAME" "dmesg | grep -E 'vbd-$XVDE: .*shrank from 65536 to 32768 sectors'" 30)
[ -n "$said" ] || bad+="; xvde: no message that it shrank from 65536 to 32768 sectors"
st=$(xenbus_states_wait "$id" vbd $XVDE "6 6" 30) || bad+="; xvde: states '$st', not Closed (6 6)"

offloads=$(dom_run "$NAME" "netfeat $NET_IF" 30)
[ "$offloads" = "sg 0 tso 0" ] || bad+="; the vif after the restore: '$offloads', want scatter-gather and TSO off"
net_ping_gap "$NAME" >/dev/null || bad+="; no ping answer from dom0 within 60 s over the vif"
FIO_TIMEOUT=120 fio_verify "$NAME" 32M >/dev/null || bad+="; xvda's fio pattern does not verify"
ext4_check_files "$NAME" || bad+="; the ext4 files on xvdc changed (or no answer)"
w=$(dom_warnings "$NAME") && [ -z "$w" ] || bad+="; the guest warned: $w"
[ -z "$bad" ] || fail "${bad#; }"
lab_log "xvda follows the new backend with the fio loop at $out; xvdd grew; xvde refused; the vif without offloads answers"
dom_destroy "$NAME"
