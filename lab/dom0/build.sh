#!/usr/bin/env bash
# lab/dom0/build.sh: build (or reuse) the dom0 boot set and print its directory.
#
# The set is xen (uncompressed multiboot image), vmlinuz (Debian bookworm 6.1,
# PV dom0) and initrd.cpio = base.cpio (debootstrap minbase + xen-utils-4.17
# from bookworm-security + qemu-system-xen + only the kernel modules the lab
# needs) followed by overlay.cpio (lab/dom0/overlay/*: init, agent, hotplug script;
# the kernel unpacks concatenated cpio archives in order).  The base is cached
# under $XH_CACHE/lab/dom0-<hash>/ where <hash> covers the resolved package
# versions, the package and module lists and DOM0_RECIPE (bump it when the
# recipe below changes); the overlay is re-packed only when lab/dom0/overlay/* changes.
# A fresh clone on the same machine therefore starts warm.
set -euo pipefail
. "$(dirname "$0")/../lib/env.sh"
DOM0_RECIPE=1

"$LAB_TOP/scripts/deps.sh" lab

# Modules dom0 loads (their dependencies are added automatically).
MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback
	loop bridge 9p 9pnet_virtio virtio_pci virtio_blk virtio_console ext4 crc32c_generic dm-delay"
DOM0_PKGS="xen-utils-4.17 xenstore-utils kmod busybox mount e2fsprogs procps iproute2 bash
	qemu-system-xen seabios dmsetup"

candidate() { apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'; }
KIMG=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
[ -n "$KIMG" ] || lab_die "cannot resolve linux-image-amd64 (apt-get update?)"
versions="xen-hypervisor-4.17-amd64=$(candidate xen-hypervisor-4.17-amd64)
xen-utils-4.17=$(candidate xen-utils-4.17)
$KIMG=$(candidate "$KIMG")
qemu-system-xen=$(candidate qemu-system-xen)
modules=$MODULES
pkgs=$DOM0_PKGS"
key=$(printf 'recipe %s\n%s\n' "$DOM0_RECIPE" "$versions" | sha256sum | cut -c1-16)
out=$LAB_CACHE/dom0-$key

# The overlay: our files, packed on top of the cached base.
overlay() {
	local okey o
	okey=$(cd "$LAB_DIR/dom0/overlay" && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - . | sha256sum | cut -c1-16)
	[ "$(cat "$out/overlay.key" 2>/dev/null)" = "$okey" ] && [ -f "$out/initrd.cpio" ] && return 0
	o=$(mktemp -d)
	mkdir -p "$o/usr/local/sbin" "$o/etc/xen/scripts"
	install -m 0755 "$LAB_DIR/dom0/overlay/init" "$o/init"
	install -m 0755 "$LAB_DIR/dom0/overlay/lab-agent" "$o/usr/local/sbin/lab-agent"
	install -m 0755 "$LAB_DIR/dom0/overlay/domcon" "$o/usr/local/sbin/domcon"
	install -m 0755 "$LAB_DIR/dom0/overlay/block" "$o/etc/xen/scripts/block"
	(cd "$o" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out/overlay.cpio"
	rm -rf "$o"
	cat "$out/base.cpio" "$out/overlay.cpio" > "$out/initrd.cpio.tmp"
	mv "$out/initrd.cpio.tmp" "$out/initrd.cpio"
	echo "$okey" > "$out/overlay.key"
}

if [ -f "$out/done" ]; then
	overlay
	echo "$out"
	exit 0
fi

lab_say "building dom0 boot set $key (a few minutes)"
mkdir -p "$LAB_CACHE/dl"
work=$BUILD/lab/dom0-build
rm -rf "$work" "$LAB_CACHE"/dom0-*.tmp
mkdir -p "$work" "$out.tmp"

# 1. Debian minbase, cached as a tarball (independent of the key).
base=$LAB_CACHE/minbase-bookworm.tar
if [ ! -f "$base" ]; then
	lab_say "debootstrap --variant=minbase bookworm"
	debootstrap --variant=minbase bookworm "$work/root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; lab_die "debootstrap failed"; }
	tar -C "$work/root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
else
	mkdir -p "$work/root"
	tar -C "$work/root" -xf "$base"
fi
root=$work/root

# 2. Xen tools (bookworm-security, matching the hypervisor) and the device model.
cat > "$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cleanup() { umount "$root/proc" "$root/sys" "$root/dev" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
chroot "$root" /bin/sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get -q update && \
	apt-get install -y -q --no-install-recommends $(echo $DOM0_PKGS)" >"$work/apt.log" 2>&1 ||
	{ tail -30 "$work/apt.log" >&2; lab_die "apt-get in the dom0 root failed"; }
chroot "$root" dpkg-query -W -f='${Package}=${Version}\n' > "$out.tmp/packages.txt"
cleanup
trap - EXIT
got=$(sed -n 's/^xen-utils-4.17=//p' "$out.tmp/packages.txt")
[ "$got" = "$(candidate xen-hypervisor-4.17-amd64)" ] ||
	lab_die "xen-utils $got does not match the hypervisor $(candidate xen-hypervisor-4.17-amd64)"

# 3. Hypervisor and dom0 kernel: apt-get download + dpkg-deb -x (no system install).
(cd "$LAB_CACHE/dl" && apt-get download -q xen-hypervisor-4.17-amd64 "$KIMG" >/dev/null)
deb() { ls -t "$LAB_CACHE/dl/${1}_$(candidate "$1" | sed 's/:/%3a/')_"*.deb | head -1; }
dpkg-deb -x "$(deb xen-hypervisor-4.17-amd64)" "$work/xen"
dpkg-deb -x "$(deb "$KIMG")" "$work/kernel"
xz=$(ls "$work"/xen/boot/xen-4.17*-amd64.gz | head -1)
gunzip -c "$xz" > "$out.tmp/xen"
kver=$(ls "$work/kernel/lib/modules" | head -1)
depmod -b "$work/kernel" "$kver"   # the .deb ships no modules.dep
cp "$work/kernel/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"

# Only the modules we need, with their dependencies.
rm -rf "$root/lib/modules" "$root/usr/lib/modules"
mkdir -p "$root/lib/modules/$kver"
cp "$work/kernel/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
for m in $MODULES; do
	modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
	rel=${ko#"$work/kernel"}
	mkdir -p "$root$(dirname "$rel")"
	cp "$ko" "$root$rel"
done
depmod -b "$root" "$kver"

# 4. Prune what dom0 never uses.
rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bash-completion,zoneinfo,iso-codes,xml} "$root"/var/cache/* \
	"$root"/usr/lib/udev/hwdb.* "$root"/etc/udev/hwdb.* "$root"/usr/lib/python3* "$root"/usr/lib/ipxe \
	"$root"/var/lib/apt/lists/* "$root"/usr/share/qemu/{edk2*,openbios*,*.img,u-boot*,skiboot*,palcode*,s390*,hppa*,opensbi*,QEMU,slof*} \
	"$root"/usr/lib/x86_64-linux-gnu/dri "$root"/usr/share/icons "$root"/var/log/*.log 2>/dev/null || true

# 5. Mount points and run-time directories.
echo dom0 > "$root/etc/hostname"
mkdir -p "$root/lab" "$root/scratch" "$root/var/lib/xen" "$root/var/lib/xenstored" "$root/var/log/xen" "$root/run/xen"

(cd "$root" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp/base.cpio"
printf '%s\n' "$versions" > "$out.tmp/inputs.txt"
echo "$kver" > "$out.tmp/kver"
du -sh "$root" | awk '{ print "root size " $1 }' > "$out.tmp/size.txt"
touch "$out.tmp/done"
rm -rf "$out"
mv "$out.tmp" "$out"
rm -rf "$work"
overlay
lab_say "dom0 boot set ready: $out ($(du -sh "$out/initrd.cpio" | cut -f1) initrd)"
echo "$out"
