#!/usr/bin/env bash
# Install the Debian packages the workbench needs (idempotent, quiet when
# everything is there).  Needs root for apt-get.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(
	# kernel builds
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod rsync
	xz-utils zstd ccache python3 git
	# hygiene checks: sparse, arm64 cross build, clang
	python3-ply python3-git sparse gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu clang lld llvm
	# KUnit under QEMU
	qemu-system-x86
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
say "installing: ${missing[*]}"
# apt-cache knows nothing before the first update on a fresh machine.
if [ -z "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	apt-get update -q >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
