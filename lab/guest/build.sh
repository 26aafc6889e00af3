#!/usr/bin/env bash
# lab/guest/build.sh: build the domU initramfs (gzip cpio) into build/lab/images/.
# Contents: static busybox, our test tools (lab/guest/tools/*.c, static), a static fio (built once from Debian's fio source,
# cached in $XH_CACHE/lab), mkfs.ext4/e2fsck/mkswap with their libraries, and
# lab/guest/init.  Rebuilt only when its inputs change.
set -euo pipefail
. "$(dirname "$0")/../lib/env.sh"
"$LAB_TOP/scripts/deps.sh" lab

out=$LAB_BUILD/images/guest-initrd.gz
mkdir -p "$LAB_BUILD/images" "$LAB_CACHE"

# Static fio, without SysV shm (the tinyconfig guest has no SYSVIPC): Debian's fio links 60+ libraries (~80 MB: ceph, gluster, rdma...),
# far too much for a 256 MiB guest whose RAM ends up in the hibernation image.
FIO_VER=3.33
fio=$LAB_CACHE/fio-$FIO_VER-static-noshm
if [ ! -x "$fio" ]; then
	lab_say "building static fio $FIO_VER from Debian source"
	src=$LAB_BUILD/fio-src
	rm -rf "$src"; mkdir -p "$src/lists/partial"
	echo "deb-src http://deb.debian.org/debian bookworm main" > "$src/src.list"
	apto=(-o Dir::Etc::sourcelist="$src/src.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$src/lists")
	(cd "$src" && apt-get -q "${apto[@]}" update >/dev/null && apt-get -q "${apto[@]}" source --download-only "fio=$FIO_VER-3" >/dev/null 2>&1)
	tar -C "$src" -xzf "$src/fio_$FIO_VER.orig.tar.gz"
	(cd "$src/fio-$FIO_VER" && ./configure --build-static --disable-numa --disable-rdma --disable-rados \
		--disable-rbd --disable-http --disable-gfapi --disable-libnfs --disable-lex --disable-pmem \
		--disable-native --disable-xnvme --disable-libzbc --disable-tcmalloc --disable-dfs --disable-shm >../configure.log 2>&1 &&
		nice make -j"$(nproc)" fio >../make.log 2>&1) || lab_die "fio build failed (see $src)"
	strip -o "$fio.tmp" "$src/fio-$FIO_VER/fio" && mv "$fio.tmp" "$fio"
	rm -rf "$src"
fi

key=$( { cat "$0" "$LAB_DIR/guest/init" "$LAB_DIR/guest/agent.sh" "$LAB_DIR"/guest/tools/*.c; sha256sum /bin/busybox "$fio" /sbin/mkfs.ext4 /sbin/e2fsck; } | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi
root=$LAB_BUILD/guest-root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,root,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
# The kernel's orderly_poweroff() (xl shutdown) runs /sbin/poweroff.
ln -s ../bin/busybox "$root/sbin/poweroff"
cp "$fio" "$root/bin/fio"
# Our own test tools (guest/tools/*.c), static.
for c in "$LAB_DIR"/guest/tools/*.c; do
	t=${c##*/}
	gcc -O2 -Wall -Wextra -Werror -static -o "$root/bin/${t%.c}" "$c" || lab_die "building guest tool $t failed"
done
for b in /sbin/mkfs.ext4 /sbin/e2fsck; do
	rm -f "$root/bin/${b##*/}"
	cp "$b" "$root/sbin/"
	ldd "$b" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | while read -r l; do
		[ -f "$l" ] && cp -L "$l" "$root/lib/x86_64-linux-gnu/"
	done
done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
install -m 0755 "$LAB_DIR/guest/init" "$root/init"
install -m 0644 "$LAB_DIR/guest/agent.sh" "$root/lib/lab-agent.sh"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) > "$out.tmp"
mv "$out.tmp" "$out"
echo "$key" > "$out.key"
rm -rf "$root"
lab_say "guest initramfs $(du -h "$out" | cut -f1): $out"
