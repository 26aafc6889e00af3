#!/usr/bin/env bash
# scripts/deps.sh [workbench] [lab] [deb]: install the Debian packages a part of
# the project needs (idempotent, quiet when everything is there; every part
# when none is named).  Needs root for apt-get.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

workbench=(
	# kernel builds
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod rsync
	xz-utils zstd ccache python3 git
	# hygiene checks: sparse, arm64 cross build, clang, shell scripts
	python3-ply python3-git sparse gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu clang lld llvm
	# clang for trees that need a newer LLVM than Debian 12's default (7.3: 17)
	clang-19 lld-19 llvm-19
	shellcheck
	# KUnit under QEMU
	qemu-system-x86
)
deb=(
	# make deb: the build dependencies bindeb-pkg checks (libdw-dev: 7.3, not 6.12)
	debhelper dpkg-dev libdw-dev
)
lab=(
	# the rig: QEMU, dom0 and guest images made on the host
	qemu-system-x86 qemu-utils debootstrap busybox-static e2fsprogs cpio gzip
	zstd xz-utils gcc make libc6-dev zlib1g-dev kmod binutils dpkg-dev coreutils util-linux
)

pkgs=()
[ $# -gt 0 ] || set -- workbench lab deb
for part in "$@"; do
	case $part in
	workbench) pkgs+=("${workbench[@]}") ;;
	lab) pkgs+=("${lab[@]}") ;;
	deb) pkgs+=("${deb[@]}") ;;
	*) die "unknown part '$part' (workbench, lab, deb)" ;;
	esac
done
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
