#!/usr/bin/env bash
# scripts/guest-kernel.sh BASE [TIMEOUT...]: the lab's guest kernel of BASE's
# series in its build directory (obj/guest), as "make kernel" builds it, or
# the one built before from the same inputs, kept in $XH_CACHE/kernels (the
# last two per base); prints one TAP line.  make check runs it where the tree
# is the series as its patches have it ("make kernel" builds what the tree
# holds, edits too).  TIMEOUT... prefixes the build (make check: "timeout N").
# scripts/guest-kernel.sh --kept BASE: succeeds when such a kernel is kept.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# kept_kernel_dir BASE: where guest_kernel keeps BASE's guest kernel built
# from the inputs at hand (the series, the scripts, the config, the lab's
# test modules).
kept_kernel_dir() {
	local b=$1
	# shellcheck disable=SC2046 # one argument per file, none has a space
	echo "$XH_CACHE/kernels/$b-$(inputs_key "$TOP/kernel/bases/$b.pin" $(series_patches "$(series_dir_of "$b")") \
		"$TOP/scripts/kernel.sh" "$TOP/scripts/lib.sh" "$TOP/scripts/tree.sh" "$TOP/kernel/configs/xen-guest.config" \
		"$TOP"/lab/guest/modules/*)"
}

# guest_kernel BASE [TIMEOUT...]: the guest kernel, copied from the cache
# or built (tree.sh and kernel.sh run under TIMEOUT..., e.g. "timeout 600").
guest_kernel() {
	local b=$1 dir obj f files tmp limit
	shift
	limit=("$@")
	files=(vmlinux arch/x86/boot/bzImage System.map)
	obj=$(build_dir_of "$b")/obj/guest
	dir=$(kept_kernel_dir "$b")
	if [ -z "${XH_RERUN:-}" ] && [ -f "$dir/done" ]; then
		rm -rf "$obj" && mkdir -p "$obj/arch/x86/boot" "$obj/lab-modules" &&
			for f in "${files[@]}"; do cp "$dir/${f##*/}" "$obj/$f" || return 1; done &&
			cp "$dir"/lab-modules/*.ko "$obj/lab-modules/" ||
			{ echo "not ok 1 - guest kernel: copying it from $dir"; return 1; }
		echo "ok 1 - guest kernel: the build of $(date -u -r "$dir/done" '+%F %H:%M') UTC from the same inputs ($dir)"
		return 0
	fi
	if ! BASE=$b "${limit[@]}" "$TOP/scripts/tree.sh" || ! BASE=$b "${limit[@]}" "$TOP/scripts/kernel.sh" guest; then
		echo "not ok 1 - guest kernel"
		return 1
	fi
	[ "$(cat "$(build_dir_of "$b")/linux/.git/xh-base-version")" = "$(PIN=$TOP/kernel/bases/$b.pin pin VERSION)" ] || {
		echo "ok 1 - guest kernel: built (of another version than the pin: not kept)"
		return 0
	}
	mkdir -p "$XH_CACHE/kernels"
	tmp=$(mktemp -d -p "$XH_CACHE/kernels" "$b.XXXXXX")
	mkdir -p "$tmp/lab-modules"
	for f in "${files[@]}"; do cp "$obj/$f" "$tmp/" || return 1; done
	cp "$obj"/lab-modules/*.ko "$tmp/lab-modules/" || return 1
	touch "$tmp/done"
	rm -rf "$dir" && mv "$tmp" "$dir"
	# shellcheck disable=SC2012 # names made here, no spaces
	ls -1dt "$XH_CACHE/kernels/$b-"* | tail -n +3 | xargs -r rm -rf
	echo "ok 1 - guest kernel: built"
}

if [ "${1:-}" = --kept ]; then
	[ -f "$(kept_kernel_dir "$2")/done" ]
	exit
fi
[ $# -ge 1 ] || die "usage: $0 BASE [TIMEOUT...] | --kept BASE"
guest_kernel "$@"
