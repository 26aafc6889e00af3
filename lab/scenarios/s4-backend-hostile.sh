#!/usr/bin/env bash
# s4-backend-hostile: the backends a restored image reconnects to announce
# values a compromised or broken backend could write.  A PVH guest of 384
# MiB with two vCPUs and seven small disks next to its own three hibernates.  The new
# domain is paused at its loading kernel's first "Image loading progress"
# line (the loading kernel is done with the devices): then each of xvdd,
# xvde, xvdf, xvdg, xvdi and xvdj is pointed at a copy of its backend's xenstore
# directory, which a dom0 job fills with the real backend's keys, then one
# hostile value, once the real backend has connected to the image
# kernel's rings, and only then says Connected; xvdh's real backend gets
# offers far above any limit; the first vif's backend offers no queue at
# all, and the second vif's MAC address is garbage.
#   xvdd  sectors 0 (a disk that shrank)     refused, says it shrank
#   xvde  sectors 2^64-1                     refused, says how many
#   xvdf  sector-size 1048576                refused, says the change
#   xvdg  sectors "many"                     refused, names the key
#   xvdh  max-ring-page-order, multi-queue-max-queues and
#         feature-max-indirect-segments 4294967295
#                                            capped: works, ring and
#                                            queues within the guest's own
#                                            limits
#   xvdi  feature-barrier 1 without feature-flush-cache (FUA by barrier)
#         and indirect descriptors           works: 128 KiB O_SYNC writes
#                                            verify
#   xvdj  neither feature-flush-cache nor feature-barrier (flushes no
#         longer offered)                    works as a write-through
#                                            disk without FUA
#   vif 0 multi-queue-max-queues 0          works with one queue
#   vif 1 mac "zz:zz" (the toolstack's key)  given up and unregistered
# Pass: each refused disk is Closed at both ends and stays so, and I/O to
# it fails at once; the others read back what was written; xvda's fio
# pattern and the ext4 files on xvdc verify; no warning, BUG or oops.
# lab-min-s: 300
. "$(dirname "$0")/../lib/lab.sh"
NAME=hostile
XVDD=51760 XVDE=51776 XVDF=51792 XVDG=51808 XVDH=51824 XVDI=51840 XVDJ=51856
lab_boot
# Two rings for xvdh's frontend: the backends offer as many.
orig_queues=$(dom0_run 'cat /sys/module/xen_blkback/parameters/max_queues') || fail "dom0 has no xen_blkback max_queues"
lab_on_exit 'dom0_run "echo $orig_queues > /sys/module/xen_blkback/parameters/max_queues; xenstore-rm /local/domain/0/hostile" >/dev/null 2>&1'
dom0_run "echo 2 > /sys/module/xen_blkback/parameters/max_queues" >/dev/null || fail "cannot set xen_blkback max_queues"
lab_log "dom0's xen_blkback max_queues was $orig_queues, now 2"
# shellcheck disable=SC2034 # for dom_create
DOM_DISKS="xvda data.img
xvdb swap.img
xvdc ext4.img
xvdd d.img
xvde e.img
xvdf f.img
xvdg g.img
xvdh h.img
xvdi i.img
xvdj j.img"
# shellcheck disable=SC2034 # for dom_create
DOM_MAKE_DISKS="rm -f ./*.img && truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
	cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img &&
	for d in d e f g h i j; do truncate -s 16M \$d.img || exit 1; done"
# Ten disks of two rings each, every ring with its persistent grants'
# pages: 384 MiB leave the image room.
DOM_MEM=384 dom_create "$NAME" 2 "vif = [ 'bridge=xenbr0,mac=00:16:3e:5a:00:02,type=vif', 'bridge=xenbr0,mac=00:16:3e:5a:00:08,type=vif' ]" ||
	fail "$NAME did not become ready"
net_up "$NAME" >/dev/null || fail "no ping answer from dom0 over the vif"
fio_write "$NAME" 32M >/dev/null || fail "writing xvda's fio pattern failed"
ext4_add_file "$NAME" before || fail "writing to the ext4 on xvdc failed"

# The dom0 side.  hostile.sh point DOMID DEVID: the frontend's backend node
# names a copy of the backend's directory, in state InitWait.  hostile.sh
# connect DOMID DEVID KEY=VALUE...: once the frontend has set up its rings
# (Initialised) and the real backend has connected to them (Connected),
# copy the real backend's keys again (the sizes and features it writes at
# connect), then KEY=VALUE over them, then Connected.
hostile_sh=$(cat <<'EOF'
what=$1 id=$2 dev=$3
shift 3
real=/local/domain/0/backend/vbd/$id/$dev
fake=/local/domain/0/hostile/vbd/$id/$dev
fe=/local/domain/$id/device/vbd/$dev
copy() {
	for k in $(xenstore-list "$real"); do
		[ "$k" = state ] || xenstore-write "$fake/$k" "$(xenstore-read "$real/$k")" || exit 1
	done
}
case $what in
point)
	xenstore-rm "$fake" 2>/dev/null
	copy
	xenstore-write "$fake/state" 2 &&
	xenstore-chmod -r /local/domain/0/hostile n0 "r$id" &&
	xenstore-write "$fe/backend" "$fake" ;;
connect)
	# Six of these poll at once in a dom0 where each xenstore-read is a
	# fork: slowly, so that they leave dom0 to the backends.
	i=0
	until [ "$(xenstore-read "$fe/state")" = 3 ] && [ "$(xenstore-read "$real/state")" = 4 ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "timeout: frontend $(xenstore-read "$fe/state"), backend $(xenstore-read "$real/state")"; exit 1; }
		sleep 0.5
	done
	copy
	for kv; do xenstore-write "$fake/${kv%%=*}" "${kv#*=}" || exit 1; done
	xenstore-write "$fake/state" 4 && echo connected ;;
esac
EOF
)
dom0_run -t 30 "cat > /scratch/$NAME/hostile.sh <<'EOF'
$hostile_sh
EOF" >/dev/null || fail "cannot write hostile.sh in dom0"

# The new domain's devices, changed while its loading kernel is paused.
PLAN="$XVDD sectors=0
$XVDE sectors=18446744073709551615
$XVDF sector-size=1048576
$XVDG sectors=many
$XVDI feature-barrier=1 feature-flush-cache=0
$XVDJ feature-barrier=0 feature-flush-cache=0"
while_loading() {
	local id dev kv cmd=
	id=$(dom_id "$1") || return 1
	while read -r dev kv; do
		cmd+="sh /scratch/$NAME/hostile.sh point $id $dev &&
			{ setsid sh /scratch/$NAME/hostile.sh connect $id $dev $kv </dev/null >/scratch/$NAME/connect.$id.$dev 2>&1 & } &&
			"
	done <<< "$PLAN"
	for kv in max-ring-page-order multi-queue-max-queues feature-max-indirect-segments; do
		cmd+="xenstore-write /local/domain/0/backend/vbd/$id/$XVDH/$kv 4294967295 && "
	done
	cmd+="xenstore-write /local/domain/0/backend/vif/$id/0/multi-queue-max-queues 0 && "
	cmd+="xenstore-write /local/domain/$id/device/vif/1/mac zz:zz && "
	dom0_run -t 60 "$cmd true" >/dev/null
}

# What the checks compare with, in the guest's memory: data on the disks
# that must keep working, xvdj's cache mode before the hibernation.  Made
# again after a fresh boot (hib_cycle's RECOVER), with the vif's address.
before_hibernation() {
	local d
	for d in h i j; do
		dom_run "$NAME" "dd if=/dev/urandom of=/tmp/$d.pat bs=128k count=8 2>/dev/null &&
			dd if=/tmp/$d.pat of=/dev/xvd$d bs=128k oflag=direct 2>/dev/null" 60 ||
			{ lab_log "writing the pattern to xvd$d failed"; return 1; }
	done
	dom_run "$NAME" "echo \$(cat /sys/block/xvdj/queue/write_cache /sys/block/xvdj/queue/fua) '' > /tmp/xvdj.cache" 30 ||
		{ lab_log "cannot read xvdj's cache mode"; return 1; }
}
before_hibernation || fail "the data to check after the hibernation could not be written"
HIB_WHILE_LOADING=while_loading hib_cycle "$NAME" 'net_up "$NAME" >/dev/null && before_hibernation' ||
	fail "hibernation failed: $HIB_FAIL"
id=$(dom_id "$NAME")
lab_log "off after ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create, domid $id"

# The dom0 jobs connected every copy (or say why not).
while read -r dev kv; do
	out=$(dom0_run -t 200 "for i in \$(seq 180); do grep -q . /scratch/$NAME/connect.$id.$dev && break; sleep 1; done; cat /scratch/$NAME/connect.$id.$dev")
	[ "$out" = connected ] || fail "the hostile backend of vbd $dev did not connect: $out"
done <<< "$PLAN"

# Every check, each failure named.
bad=
log=$(dom_run "$NAME" 'dmesg | grep -E "vbd-[0-9]+:|xen-blkfront|blkfront"' 30)
refused() {
	local dev=$1 disk=$2 msg=$3 st out
	grep -q -E "vbd-$dev: .*$msg" <<< "$log" || bad+="; $disk: no message /$msg/"
	if ! st=$(xenbus_states_wait "$id" vbd "$dev" "6 6" 30); then
		bad+="; $disk: states '$st', not Closed (6 6)"
	fi
	out=$(dom_run "$NAME" "dd if=/dev/zero of=/dev/$disk bs=4096 count=1 oflag=direct 2>&1; echo rc=\$?" 30) ||
		{ bad+="; $disk: a write did not return within 30 s"; return; }
	[ "${out##*rc=}" != 0 ] || bad+="; $disk: a write succeeded"
}
refused $XVDD xvdd "shrank from 32768 to 0 sectors"
refused $XVDE xvde "18446744073709551615 sectors"
refused $XVDF xvdf "sector size changed from 512 to 1048576"
refused $XVDG xvdg "cannot read sectors"

# xvdh: capped, its rings within the guest's limits.
st=$(xenbus_connected "$id" vbd $XVDH 30) || bad+="; xvdh: states '$st', not Connected"
got=$(dom0_run -t 30 "fe=/local/domain/$id/device/vbd/$XVDH
	echo \$(xenstore-read \$fe/ring-page-order 2>/dev/null || echo 0) \$(xenstore-read \$fe/multi-queue-num-queues 2>/dev/null || echo 1)")
[ "$got" = "0 2" ] || bad+="; xvdh: ring page order and queues '$got', want '0 2'"
segs=$(dom_run "$NAME" 'cat /sys/block/xvdh/queue/max_segments' 30)
[ "$segs" = 32 ] || bad+="; xvdh: $segs segments per request, want 32"

# xvdi: writes that must reach the disk (FUA, done by barrier) through
# indirect descriptors.
st=$(xenbus_connected "$id" vbd $XVDI 30) || bad+="; xvdi: states '$st', not Connected"
lab_log "xvdi: write_cache, fua: $(dom_run "$NAME" 'cat /sys/block/xvdi/queue/write_cache /sys/block/xvdi/queue/fua' 30 | tr '\n' ' ')"
out=$(dom_run "$NAME" 'fio --name=fua --filename=/dev/xvdi --offset=4M --size=2M --bs=128k --direct=1 --sync=1 \
	--ioengine=psync --rw=write --verify=crc32c --do_verify=1 --verify_fatal=1 >/tmp/fua.txt 2>&1; rc=$?
	grep -E "err=|verify" /tmp/fua.txt | head -n 3; exit $rc' 120) ||
	bad+="; xvdi: 128 KiB O_DIRECT|O_SYNC writes failed or hung: $out"
# xvdj: no flushes on offer any more: a write-through disk without FUA
# (it kept the write cache and FUA of the backend that took the image).
st=$(xenbus_connected "$id" vbd $XVDJ 30) || bad+="; xvdj: states '$st', not Connected"
got=$(dom_run "$NAME" 'cat /sys/block/xvdj/queue/write_cache /sys/block/xvdj/queue/fua' 30 | tr '\n' ' ')
[ "$got" = "write through 0 " ] || bad+="; xvdj: write_cache and fua '$got', want 'write through 0'"
before=$(dom_run "$NAME" 'cat /tmp/xvdj.cache' 30)
[ "$before" = "write back 1 " ] || [ "$before" = "write back 0 " ] || bad+="; xvdj before the hibernation: '$before', want a write-back cache"
for d in h i j; do
	sum=$(dom_run "$NAME" "a=\$(md5sum < /tmp/$d.pat) && b=\$(dd if=/dev/xvd$d bs=128k count=8 iflag=direct 2>/dev/null | md5sum) &&
		[ \"\$a\" = \"\$b\" ] && echo same" 60)
	[ "$sum" = same ] || bad+="; xvd$d does not read back what was written ('$sum')"
done

# The vif, offered no queue: one queue, Connected, dom0 answers.
st=$(xenbus_connected "$id" vif 0 30) || bad+="; vif 0: states '$st', not Connected"
net_ping_gap "$NAME" >/dev/null || bad+="; no ping answer from dom0 within 60 s over the vif offered no queue"
# The second vif, its MAC address unreadable: given up, as at a first
# connection, while the first reconnects.
grep -q "parsing device/vif/1/mac" <<< "$(dom_run "$NAME" 'dmesg | grep vif-1' 30)" ||
	bad+="; vif 1: no message that its MAC address could not be parsed"
left=$(dom_run "$NAME" 'ls -d /sys/bus/xen/devices/vif-1 2>/dev/null' 30)
[ -z "$left" ] || bad+="; vif 1 is still registered"

FIO_TIMEOUT=120 fio_verify "$NAME" 32M >/dev/null || bad+="; xvda's fio pattern does not verify"
ext4_check_files "$NAME" || bad+="; the ext4 files on xvdc changed (or no answer)"
for dev in $XVDD $XVDE $XVDF $XVDG; do
	st=$(xenbus_states "$id" vbd "$dev")
	[ "$st" = "6 6" ] || bad+="; vbd $dev left Closed: '$st'"
done
w=$(dom_warnings "$NAME") && [ -z "$w" ] || bad+="; the guest warned: $w"
[ -z "$bad" ] || fail "${bad#; }"
lab_log "xvdd, xvde, xvdf, xvdg refused and Closed; xvdh capped, xvdi FUA by barrier, xvdj write-through: data verified; the vif offered no queue answers"
dom_destroy "$NAME"
