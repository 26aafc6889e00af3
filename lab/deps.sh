#!/usr/bin/env bash
# Install the host packages the lab needs (idempotent; root, Debian 12).
set -euo pipefail
pkgs=(qemu-system-x86 qemu-utils debootstrap busybox-static e2fsprogs cpio gzip
      zstd xz-utils gcc make libc6-dev zlib1g-dev kmod binutils dpkg-dev coreutils util-linux)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
	apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
