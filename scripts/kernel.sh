#!/usr/bin/env bash
# make kernel: build the lab's guest kernel from build/linux into build/obj/<name>.
#   scripts/kernel.sh [name [extra fragment or KEY=value ...]]
# name defaults to "guest".  Extra arguments are config lines or fragment files
# merged after kernel/configs/xen-guest.config (used for the HIBERNATION=n,
# PM_SLEEP=n and blkfront=m variants).  Incremental: the object directory and
# ccache are kept.  OBJ= overrides the object directory, LINUX= the source
# tree, ARCH=/CROSS_COMPILE=/LLVM= are passed to make; CONFIGS= names the base
# fragment (default kernel/configs/xen-guest.config).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:-guest}
shift || true
obj=${OBJ:-$BASE_BUILD/obj/$name}
base_frag=${CONFIGS:-$TOP/kernel/configs/xen-guest.config}
[ -f "$LINUX/Makefile" ] || die "no kernel tree in $LINUX; run 'make tree' first"
mkdir -p "$obj" "$CCACHE_DIR"
mk=()
[ -n "${ARCH:-}" ] && mk+=("ARCH=$ARCH")
[ -n "${CROSS_COMPILE:-}" ] && mk+=("CROSS_COMPILE=$CROSS_COMPILE")
if [ -n "${LLVM:-}" ]; then
	# LLVM=1 is the default clang, LLVM=-19 clang-19, LLVM=DIR/ DIR/clang.
	case $LLVM in
	*/) clang=${LLVM}clang ;;
	-*) clang=clang$LLVM ;;
	*) clang=clang ;;
	esac
	mk+=("LLVM=$LLVM" "CC=ccache $clang")
else
	mk+=("CC=ccache ${CROSS_COMPILE:-}gcc")
fi
# Same relative layout for every tree under $BUILD, so ccache hits across them.
export CCACHE_BASEDIR=$BUILD

frag=$obj/.fragment
{
	cat "$base_frag"
	for x in "$@"; do
		if [ -f "$x" ]; then cat "$x"; else printf '%s\n' "$x"; fi
	done
} > "$frag.new"

# Regenerate .config only when the fragment changed, so builds stay incremental.
if ! cmp -s "$frag.new" "$frag" || [ ! -f "$obj/.config" ]; then
	make -s -C "$LINUX" O="$obj" "${mk[@]}" tinyconfig >/dev/null
	"$LINUX/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag.new" >/dev/null
	make -s -C "$LINUX" O="$obj" "${mk[@]}" olddefconfig >/dev/null
	# The last word of the fragment on each symbol must survive olddefconfig.
	missing=$(awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { split($0, kv, "="); want[kv[1]] = $0; next }
		/^# CONFIG_[A-Za-z0-9_]+ is not set/ { want[$2] = $2 "=n" }
		END { for (k in want) print want[k] }' "$frag.new" | sort | while read -r l; do
		case "$l" in
		*=n) grep -q "^${l%=n}=" "$obj/.config" && printf '%s ' "$l" ;;
		*) grep -qx "$l" "$obj/.config" || printf '%s ' "$l" ;;
		esac
	done)
	# A symbol this kernel does not define at all (one that a later or an
	# earlier kernel removed) is reported, not fatal: the fragment serves
	# every base.
	unknown='' kept=''
	for l in $missing; do
		sym=${l%%=*}
		if git -C "$LINUX" grep -q -E "^(menu)?config ${sym#CONFIG_}\$" -- '*Kconfig*'; then
			kept="$kept$l "
		else
			unknown="$unknown $sym"
		fi
	done
	missing=$kept
	[ -z "$unknown" ] || say "not in this kernel, left out:$unknown"
	[ -z "$missing" ] || die "config lines dropped by olddefconfig: $missing"
	mv "$frag.new" "$frag"
else
	rm -f "$frag.new"
fi

targets=${TARGETS:-vmlinux bzImage}
# The lab guest also gets the lab's test modules (lab/guest/modules),
# built against it; "modules" writes the Module.symvers they link against.
lab_modules=
[ "$name" = guest ] && [ -z "${TARGETS:-}" ] && grep -qx CONFIG_MODULES=y "$obj/.config" &&
	lab_modules=$obj/lab-modules && targets="$targets modules"
# shellcheck disable=SC2086
make -C "$LINUX" O="$obj" -j"$JOBS" "${mk[@]}" ${KBUILD_EXTRA:-} $targets \
	> "$obj/build.log" 2>&1 || { tail -n 40 "$obj/build.log" >&2; die "kernel build failed (log: $obj/build.log)"; }
if [ -n "$lab_modules" ]; then
	rm -rf "$lab_modules" && mkdir -p "$lab_modules" && cp "$TOP"/lab/guest/modules/* "$lab_modules/"
	make -C "$LINUX" O="$obj" "${mk[@]}" M="$lab_modules" W=1 modules >> "$obj/build.log" 2>&1 ||
		{ tail -n 40 "$obj/build.log" >&2; die "lab test modules failed to build (log: $obj/build.log)"; }
	grep -q "lab-modules/.*warning:" "$obj/build.log" && { grep "lab-modules/.*warning:" "$obj/build.log" >&2; die "lab test modules built with warnings"; }
fi
say "built $targets in $obj"
