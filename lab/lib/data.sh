# The guest's data: a fio verify pattern on xvda and a write+verify loop
# that runs across hibernations; checksummed files on xvdc's ext4.  Part of
# the lab library (lab/lib/lab.sh).
# shellcheck shell=bash

# FIO_DEV: the guest's data disk (/dev/xvda); EXT4_DIR: where the checksummed
# files go (/mnt/c, the ext4 on xvdc).
_fio_args() { echo "--name=lab --thread --filename=${FIO_DEV:-/dev/xvda} --ioengine=psync --direct=1 --bs=${FIO_BS:-1M} --size=${1:-$FIO_SIZE} --verify=crc32c"; }

# fio_write NAME [SIZE]: write the verify pattern (crc32c headers) to xvda.
fio_write() { dom_run "$1" "fio $(_fio_args "${2:-}") --rw=write --do_verify=0 --output-format=terse --terse-version=3 >/tmp/fio-write.txt 2>&1; rc=\$?; tail -n 5 /tmp/fio-write.txt | cut -c1-200; exit \$rc" "${FIO_TIMEOUT:-300}"; }

# fio_verify NAME [SIZE]: verify what fio_write wrote; non-zero on any error.
fio_verify() { dom_run "$1" "fio $(_fio_args "${2:-}") --rw=write --verify_only --verify_fatal=1 >/tmp/fio-verify.txt 2>&1; rc=\$?; grep -E 'verify|err=|bad|crc' /tmp/fio-verify.txt | head -n 8; exit \$rc" "${FIO_TIMEOUT:-300}"; }

# fio_start NAME [SIZE]: background loop of write+verify passes on xvda, at
# FIO_LOOP_OFFSET (128M), clear of the fio_write/fio_verify pattern at 0.
fio_start() {
	dom_run "$1" "rm -f /tmp/fio.stop /tmp/fio.done /tmp/fio.count /tmp/fio.fail.*
cat > /tmp/fioloop.sh <<'EOF'
i=0; f=0
while [ ! -e /tmp/fio.stop ]; do
	fio $(_fio_args "${2:-16M}") --offset=${FIO_LOOP_OFFSET:-128M} --rw=write --do_verify=1 --verify_fatal=1 > /tmp/fio.last 2>&1 || { f=\$((f+1)); cp /tmp/fio.last /tmp/fio.fail.\$i; }
	i=\$((i+1)); echo \"\$i \$f\" > /tmp/fio.count.new && mv /tmp/fio.count.new /tmp/fio.count
done
echo done > /tmp/fio.done
EOF
sh /tmp/fioloop.sh > /dev/null 2>&1 &
echo started"
}

# fio_status NAME: "passes failures" so far (the loop replaces the file by a
# rename, so a reader never sees it empty).
fio_status() { dom_run "$1" 'cat /tmp/fio.count 2>/dev/null || echo "0 0"' 30; }

# fio_stop NAME: stop the loop after its current pass; succeed when >=1 pass
# ran and none failed.  Prints "passes failures".
fio_stop() {
	local out p f
	out=$(dom_run "$1" 'touch /tmp/fio.stop; i=0; while [ ! -e /tmp/fio.done ] && [ $i -lt 600 ]; do sleep 0.5; i=$((i+1)); done
[ -e /tmp/fio.done ] || { echo "loop did not stop"; exit 1; }
cat /tmp/fio.count; for x in /tmp/fio.fail.*; do [ -e "$x" ] && grep -E "verify|err=" "$x" | head -n 5; done; true' "${FIO_TIMEOUT:-400}") || { echo "$out"; return 1; }
	echo "$out"
	read -r p f <<< "$(printf '%s\n' "$out" | head -n 1)"
	[ "${p:-0}" -ge 1 ] && [ "${f:-1}" = 0 ]
}

# ext4_add_file NAME FILE [BLOCKS]: write FILE (BLOCKS x 64 KiB of random
# data, 32) to the ext4 on the guest's xvdc, add its sha256 to /mnt/c/sums
# and sync.
ext4_add_file() {
	dom_run "$1" "cd ${EXT4_DIR:-/mnt/c} && dd if=/dev/urandom of=$2 bs=64k count=${3:-32} 2>/dev/null && sha256sum $2 >> sums && sync" 120
}

# ext4_check_files NAME: every file in /mnt/c/sums keeps its checksum.
# Returns 124 when the guest did not answer.
ext4_check_files() { dom_run "$1" "cd ${EXT4_DIR:-/mnt/c} && sha256sum -c sums >/dev/null" 120; }

# write_through NAME DISK: an administrator's "write through" on DISK
# (queue/write_cache), which blkfront must keep while the backend has a
# write cache, whatever it reconnects to.
write_through() { dom_run "$1" "echo 'write through' > /sys/block/$2/queue/write_cache" 30 > /dev/null; }

# write_caches_kept NAME: xvda still "write back" and xvdc "write through"
# (write_through NAME xvdc); otherwise prints what they are and fails.
write_caches_kept() {
	local wc
	wc=$(dom_run "$1" 'cat /sys/block/xvda/queue/write_cache /sys/block/xvdc/queue/write_cache | tr "\n" ,; echo' 30)
	[ "$wc" = "write back,write through," ] && return 0
	echo "xvda, xvdc write caches '$wc', want 'write back,write through,'"
	return 1
}

# ext4_fsck NAME: e2fsck -n of the unmounted ext4 on xvdc, mounted again
# after; prints fsck's last lines, fails on an error or when it will not
# mount again.
ext4_fsck() {
	dom_run "$1" 'cd / && umount /mnt/c && e2fsck -n /dev/xvdc >/tmp/fsck.out 2>&1; rc=$?; mount -t ext4 /dev/xvdc /mnt/c || rc=99; tail -n 3 /tmp/fsck.out; exit $rc' 120
}

# data_intact NAME WHEN: xvda's fio pattern (32M, as fio_write NAME 32M left
# it) and the checksums of the ext4 files on xvdc; fails the scenario with
# WHEN in the message otherwise.
data_intact() {
	FIO_TIMEOUT=120 fio_verify "$1" 32M >/dev/null || fail "$2: xvda's data does not verify"
	ext4_check_files "$1" || fail "$2: ext4 files changed (or no answer)"
}

# guest_module_ramdisk MODULE: stage, in dom0, the lab guest's initramfs
# with the lab's test module MODULE (lab/guest/modules/MODULE.c) added as
# /lib/MODULE.ko; prints the dom0 path for DOM_RAMDISK.  The kernel unpacks
# concatenated archives in turn.
guest_module_ramdisk() {
	local ko=$LAB_BUILD/images/$1.ko ramdisk=guest-initrd-$1.gz stage=$LAB_SCEN_LOG/initrd-add
	[ -f "$ko" ] || { echo "no $ko: the guest kernel was built without the lab's test modules" >&2; return 1; }
	rm -rf "$stage" && mkdir -p "$stage/lib" && cp "$ko" "$stage/lib/" &&
		{ cat "$LAB_BUILD/images/guest-initrd.gz"; (cd "$stage" && find lib | cpio -o -H newc --quiet | gzip -6); } > "$LAB_BUILD/images/$ramdisk" ||
		{ echo "cannot build the initramfs with $1.ko" >&2; return 1; }
	dom0_run "cp /lab/images/$ramdisk /scratch/img/" >/dev/null ||
		{ echo "cannot stage the initramfs in dom0" >&2; return 1; }
	echo "/scratch/img/$ramdisk"
}

# blkpark_ramdisk: the initramfs with blkpark (a write submitted from its
# freeze_late callback, which waits across the hibernation).
blkpark_ramdisk() { guest_module_ramdisk blkpark; }

# blkpark_arm NAME DEV SECTOR PAGES TAG: load blkpark in NAME (once per boot)
# for a write of PAGES pages to DEV at SECTOR, each line "blkpark TAG" (a
# discard of that range with BLKPARK_OP=discard), and
# arm it for the next hibernation.  Prints the module's state before arming.
blkpark_arm() {
	dom_run "$1" "[ -d /sys/module/blkpark ] || insmod /lib/blkpark.ko path=$2 sector=$3 pages=$4 ${BLKPARK_OP:+op=$BLKPARK_OP} || exit 1
cd /sys/module/blkpark/parameters && echo -n $5 > tag && echo 1 > armed && cat state" 60
}

# blkpark_state NAME: where the write is (idle, pending, done:<errno>).
blkpark_state() { dom_run "$1" 'cat /sys/module/blkpark/parameters/state' 30; }

# blkpark_wait_done NAME TIMEOUT: wait until the write has completed; prints
# its state (done:<errno>), or the last state seen when it did not.
blkpark_wait_done() {
	local end=$((SECONDS + $2)) st
	until st=$(blkpark_state "$1") && [ "${st#done:}" != "$st" ]; do
		[ $SECONDS -lt $end ] || { echo "$st"; return 1; }
		sleep 2
	done
	echo "$st"
}

# blkpark_at_restore NAME: the write's state as the image held it (pending
# when the image was taken with the write waiting).
blkpark_at_restore() { dom_run "$1" 'cat /sys/module/blkpark/parameters/at_restore' 30; }

# blkpark_check_lines NAME DEV SECTOR PAGES TAG: the PAGES pages at SECTOR of
# DEV hold blkpark's lines for TAG, every one (read with O_DIRECT); prints
# how many, and returns 1 (after printing "GOT of WANT") when some are not.
blkpark_check_lines() {
	local line="blkpark $5" want got
	want=$(( $4 * (4096 / (${#line} + 1)) ))
	got=$(dom_run "$1" "dd if=$2 bs=4096 skip=$(($3 / 8)) count=$4 iflag=direct 2>/dev/null | grep -c -x '$line'" 60)
	[ "$got" = "$want" ] || { echo "$got of $want"; return 1; }
	echo "$got"
}
