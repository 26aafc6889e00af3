# Shared helpers for the workbench scripts. Source it; do not run it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LINUX=${LINUX:-$BUILD/linux}
# Downloads and ccache live outside the clone so a fresh clone on the same
# machine (CI) starts warm.  Nothing in here is needed for correctness.
XH_CACHE=${XH_CACHE:-/var/cache/xen-hibernation}
export CCACHE_DIR=${CCACHE_DIR:-$XH_CACHE/ccache}
JOBS=${JOBS:-$(nproc)}
# Debian's python3 first: the kernel's scripts (spdxcheck, kunit.py) need the
# python3-* packages installed by scripts/deps.sh, not another interpreter.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# Value of KEY in kernel/base.pin.
pin() { sed -n "s/^$1=//p" "$TOP/kernel/base.pin"; }

# Fail early with a clear message when fewer than $1 GiB are free under $2.
need_space() {
	local gib=$1 dir=$2 avail
	mkdir -p "$dir"
	avail=$(df -Pk "$dir" | awk 'NR==2 { print int($4 / 1048576) }')
	[ "$avail" -ge "$gib" ] ||
		die "only ${avail} GiB free under $dir, need ${gib} GiB; free some space or set BUILD= elsewhere"
}

# series_patches [DIR]: the numbered patches of the series in DIR (patches/),
# in the order of its series file, without the cover letter.
series_patches() {
	local dir=${1:-$TOP/patches} p
	[ -f "$dir/series" ] || return 0
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		printf '%s\n' "$dir/$p"
	done < "$dir/series"
}

# exported_unchanged: "make export" of base..HEAD of build/linux would write
# exactly the patches that patches/ holds.
exported_unchanged() {
	local tmp same=1
	# No RETURN trap for the clean-up: it would stay set and fire again on
	# the return of every later function of the caller.
	tmp=$(mktemp -d)
	OUT=$tmp "$TOP/scripts/export.sh" >/dev/null 2>&1
	diff -q <(series_patches "$tmp" | xargs -r cat) <(series_patches | xargs -r cat) >/dev/null || same=0
	rm -rf "$tmp"
	[ $same = 1 ]
}
