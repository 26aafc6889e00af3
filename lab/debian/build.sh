#!/usr/bin/env bash
# lab/debian/build.sh DEB...: a stock Debian 12 guest with the given kernel
# packages installed, as its own boot disk, into build/lab/images/debian/:
#   root.img     ext4 root (systemd, udev, initramfs-tools, acpid, fio ...),
#                with /swapfile, the hibernation image's home
#   vmlinuz, initrd.img   the kernel and initramfs that dpkg installed in /boot
#                (the toolstack boots them directly: PVH, or HVM via qemu-xen)
#   cmdline      the kernel command line a user would set up for this disk:
#                root=UUID=... resume=UUID=... resume_offset=<swapfile offset>
#                xen_hibernation
#   System.map, vmlinux   the kernel's symbols and code, to name the
#                addresses of a fault (lab/lib/faults.sh)
# DEBIAN_IMAGES names another output directory (a second kernel's guest).
# The debootstrapped root (no kernel) is cached under $XH_CACHE/lab; the disk
# is rebuilt only when the packages, this recipe or lab/debian/overlay change.
# Prints the output directory.
set -euo pipefail
. "$(dirname "$0")/../lib/env.sh"
DEBIAN_RECIPE=1
# What a small Debian cloud guest has, plus fio for the data checks.  acpid
# is there as on such images; logind handles the sleep button (overlay).
DEBIAN_PKGS="systemd systemd-sysv udev dbus initramfs-tools busybox zstd linux-base acpid
	e2fsprogs fio kmod iproute2 procps"
ROOT_MB=${DEBIAN_ROOT_MB:-1536}
SWAP_MB=${DEBIAN_SWAP_MB:-512}
# Fixed, so that the command line and fstab are known before the disk exists.
ROOT_UUID=5e1f0c2a-7d4b-4a2e-9c1d-0b5a1e2f3c4d

[ $# -gt 0 ] || lab_die "usage: $0 linux-image-*.deb ..."
"$LAB_TOP/scripts/deps.sh" lab
out=${DEBIAN_IMAGES:-$LAB_BUILD/images/debian}
mkdir -p "$out" "$LAB_CACHE"

# vmlinux_of BZIMAGE OUT: the kernel ELF inside a bzImage, whichever of
# zstd, xz or gzip compressed it (what the kernel's extract-vmlinux does).
vmlinux_of() {
	local magic off tool
	for magic in '\x28\xb5\x2f\xfd:zstd' '\xfd\x37\x7a\x58\x5a\x00:xz' '\x1f\x8b\x08:gzip'; do
		tool=${magic##*:}
		for off in $(LC_ALL=C grep -a -b -o -P "${magic%:*}" "$1" | cut -d: -f1); do
			tail -c +"$((off + 1))" "$1" | "$tool" -d -c 2>/dev/null > "$2.tmp"
			[ "$(head -c 4 "$2.tmp" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ] && { mv "$2.tmp" "$2"; return 0; }
		done
	done
	rm -f "$2.tmp"
	return 1
}

# 1. The debootstrapped root, cached as a tarball.
rkey=$(printf 'recipe %s\n%s\n' "$DEBIAN_RECIPE" "$DEBIAN_PKGS" | sha256sum | cut -c1-16)
rootfs=$LAB_CACHE/debian-root-$rkey.tar
if [ ! -f "$rootfs" ]; then
	lab_say "debootstrap bookworm for the Debian guest (a few minutes)"
	work=$BUILD/debian-bootstrap
	rm -rf "$work"; mkdir -p "$work"
	debootstrap --variant=minbase --include="$(echo $DEBIAN_PKGS | tr ' ' ,)" \
		bookworm "$work/root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; lab_die "debootstrap failed"; }
	rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/*
	tar -C "$work/root" -cf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
	rm -rf "$work"
fi

# 2. The disk: root, overlay, kernel packages, swap file.
key=$( { echo "$DEBIAN_RECIPE $ROOT_MB $SWAP_MB $ROOT_UUID $rootfs"; sha256sum "$@" "$0" "$LAB_DIR/guest/agent.sh";
	(cd "$LAB_DIR/debian/overlay" && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - .) | sha256sum; } | sha256sum | cut -c1-16)
if [ "$(cat "$out/key" 2>/dev/null)" = "$key" ] && [ -f "$out/root.img" ]; then
	echo "$out"
	exit 0
fi
lab_say "building the Debian guest disk ($*)"
rm -f "$out"/*
mnt=$BUILD/debian-mnt
mkdir -p "$mnt"
umount -R "$mnt" 2>/dev/null || true
truncate -s "${ROOT_MB}M" "$out/root.img.tmp"
# 4 KiB blocks: resume_offset counts pages, filefrag counts blocks.
mkfs.ext4 -q -F -b 4096 -U "$ROOT_UUID" -L debian-root "$out/root.img.tmp"
cleanup() { umount -R "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
mount -o loop "$out/root.img.tmp" "$mnt"
tar -C "$mnt" -xf "$rootfs"
cp -a "$LAB_DIR/debian/overlay/." "$mnt/"
install -D -m 0644 "$LAB_DIR/guest/agent.sh" "$mnt/usr/local/lib/lab-agent.sh"
echo debian-guest > "$mnt/etc/hostname"
mkdir -p "$mnt/var/lib/lab"   # the checksummed files (lab/lib/debian.sh: EXT4_DIR)
passwd -R "$mnt" -d root >/dev/null
cat > "$mnt/etc/fstab" <<EOT
UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1
/swapfile none swap sw 0 0
EOT
# The swap file, as a user sets it up; its first block is resume_offset=.
fallocate -l "${SWAP_MB}M" "$mnt/swapfile"
chmod 600 "$mnt/swapfile"
mkswap -q "$mnt/swapfile"
offset=$(filefrag -v "$mnt/swapfile" | awk '$1 == "0:" { sub(/\.+$/, "", $4); print $4; exit }')
[ -n "$offset" ] || lab_die "no offset for /swapfile"
echo "RESUME=UUID=$ROOT_UUID" > "$mnt/etc/initramfs-tools/conf.d/resume"
# The kernel packages; their postinst runs update-initramfs.
mkdir -p "$mnt/tmp/debs"
cp "$@" "$mnt/tmp/debs/"
mount -t proc proc "$mnt/proc"
mount -t sysfs sys "$mnt/sys"
mount --bind /dev "$mnt/dev"
chroot "$mnt" /bin/sh -c 'dpkg -i /tmp/debs/*.deb' > "$out/dpkg.log" 2>&1 ||
	{ tail -20 "$out/dpkg.log" >&2; lab_die "dpkg -i in the Debian guest failed"; }
chroot "$mnt" systemctl enable lab-agent.service lab-counter.service systemd-networkd.service > /dev/null 2>&1 ||
	lab_die "systemctl enable in the Debian guest failed"
rm -rf "$mnt/tmp/debs"
kver=$(ls "$mnt/lib/modules" | head -n 1)
[ -f "$mnt/boot/initrd.img-$kver" ] || lab_die "no initramfs for $kver in the Debian guest"
cp "$mnt/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$mnt/boot/initrd.img-$kver" "$out/initrd.img"
cp "$mnt/boot/System.map-$kver" "$out/System.map"
vmlinux_of "$out/vmlinuz" "$out/vmlinux" || lab_die "no kernel ELF found in $out/vmlinuz"
cleanup
trap - EXIT
mv "$out/root.img.tmp" "$out/root.img"
echo "root=UUID=$ROOT_UUID ro resume=UUID=$ROOT_UUID resume_offset=$offset xen_hibernation" > "$out/cmdline"
echo "$kver" > "$out/kver"
echo "$key" > "$out/key"
lab_say "Debian guest: kernel $kver, resume_offset=$offset"
echo "$out"
