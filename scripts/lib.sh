# Shared helpers for the workbench scripts. Source it; do not run it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# The kernel the series is carried on: kernel/bases/$BASE.pin names its
# Debian source package.  The primary base's series is patches/ and its
# trees are under build/; another base's series is patches/$BASE/ and its
# trees are under build/$BASE/.  kernel/bases/primary names the primary one.
PRIMARY_BASE=$(cat "$TOP/kernel/bases/primary")
BASE=${BASE:-$PRIMARY_BASE}
export BASE
# series_dir_of BASE, build_dir_of BASE: where a base's series and trees are.
series_dir_of() { if [ "$1" = "$PRIMARY_BASE" ]; then echo "$TOP/patches"; else echo "$TOP/patches/$1"; fi; }
build_dir_of() { if [ "$1" = "$PRIMARY_BASE" ]; then echo "$BUILD"; else echo "$BUILD/$1"; fi; }
PIN=$TOP/kernel/bases/$BASE.pin
SERIES=$(series_dir_of "$BASE")
BASE_BUILD=$(build_dir_of "$BASE")
LINUX=${LINUX:-$BASE_BUILD/linux}
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

# The names of the bases, one per kernel/bases/*.pin.
bases() {
	local f
	for f in "$TOP"/kernel/bases/*.pin; do f=${f##*/}; printf '%s\n' "${f%.pin}"; done
}

# Value of KEY in the base's pin, kernel/bases/$BASE.pin.
pin() {
	[ -f "$PIN" ] || die "no base named '$BASE'; the bases: $(bases | tr '\n' ' ')"
	sed -n "s/^$1=//p" "$PIN"
}

# apt_source SOURCE COMMAND ARG...: apt-get or apt-cache (COMMAND) with the
# one apt source line SOURCE ("deb URI SUITE main") and nothing else, its
# lists kept in $XH_CACHE/apt: a suite the machine does not use (experimental,
# say) serves this download alone, with apt's signature checks, and nothing
# is added to the machine's own sources.
apt_source() {
	local source=$1 cmd=$2 dir
	dir=$XH_CACHE/apt/$(printf '%s' "$source" | sha256sum | cut -c1-12)
	shift 2
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	printf '%s\n' "$source" > "$dir/sources.list"
	# Neither the machine's installed packages nor its apt preferences may
	# change what this source is found to serve.
	"$cmd" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o Dir::State::status=/dev/null \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null "$@"
}

# fetch_base SOURCE PACKAGE VERSION: the path of the kernel tarball that
# Debian's PACKAGE (linux-source-X.Y) of VERSION holds, downloaded from the
# apt source SOURCE into $XH_CACHE/dl unless it is there already.
fetch_base() {
	local source=$1 package=$2 v=$3 dl=$XH_CACHE/dl deb tar
	tar=$dl/$package-$v.tar.xz
	if [ ! -s "$tar" ]; then
		need_space 1 "$dl"
		apt_source "$source" apt-get -q update >&2 || return 1
		deb=$(cd "$dl" && apt_source "$source" apt-get download "$package=$v" >&2 &&
			ls -t "${package}_"*.deb | head -n 1) || return 1
		if ! dpkg-deb --fsys-tarfile "$dl/$deb" | tar -xO "./usr/src/$package.tar.xz" > "$tar.tmp" ||
			[ ! -s "$tar.tmp" ]; then
			rm -f "$tar.tmp" "$dl/$deb"
			return 1
		fi
		mv "$tar.tmp" "$tar" && rm -f "$dl/$deb" || return 1
	fi
	printf '%s\n' "$tar"
}

# Fail early with a clear message when fewer than $1 GiB are free under $2.
need_space() {
	local gib=$1 dir=$2 avail
	mkdir -p "$dir"
	avail=$(df -Pk "$dir" | awk 'NR==2 { print int($4 / 1048576) }')
	[ "$avail" -ge "$gib" ] ||
		die "only ${avail} GiB free under $dir, need ${gib} GiB; free some space or set BUILD= elsewhere"
}

# series_patches [DIR]: the numbered patches of the series in DIR ($SERIES),
# in the order of its series file, without the cover letter.
series_patches() {
	local dir=${1:-$SERIES} p
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

# inputs_key FILE...: 16 hex digits naming FILEs (their names under the
# project and their contents: the base's pin, the series' patches, the
# scripts and configs a result depends on) and the versions of the tools
# that make it, for cached_tap.
inputs_key() {
	local f t
	{
		for f; do printf '%s\n' "${f#"$TOP"/}"; cat "$f"; done
		for t in gcc aarch64-linux-gnu-gcc clang clang-19 sparse ld make git python3 qemu-system-x86_64; do
			command -v "$t" >/dev/null && "$t" --version 2>&1 | head -n 1
		done
		perl -e 'print "perl $^V\n"'
		printf '%s\n' "${KBUILD_EXTRA:-}" "${KCFLAGS:-}"
	} | sha256sum | cut -c1-16
}

# base_is_pinned: the tree is the pinned version of the base (tree.sh takes
# the newest one when the pinned one is no longer served): only then are
# results kept under a key naming the pin.
base_is_pinned() { [ "$(cat "$LINUX/.git/xh-base-version" 2>/dev/null)" = "$(pin VERSION)" ]; }

# tap_kept NAME KEY: cached_tap would print kept results.
tap_kept() { [ -z "${XH_RERUN:-}" ] && [ -s "$XH_CACHE/results/$1-$2.tap" ]; }

# cached_tap NAME KEY COMMAND...: the TAP of COMMAND, a check whose result is
# a function of its inputs alone (inputs_key).  A run that passed is kept in
# $XH_CACHE/results; the next run with the same key (a fresh clone of the
# same series on this machine, CI's) prints it, marked as such, instead of
# taking its minutes again, as make deb takes its packages from $XH_CACHE/deb.
# A failed run is never kept, nor one of another version of the base than
# the pinned one, nor one under XH_NO_KEEP (the caller's tree may hold more
# than the series); XH_RERUN=1 runs the check in any case, and
# XH_REPLAY_ONLY=1 returns 3 instead of running it when nothing is kept (so
# that a caller makes the base's tree only when it is needed).
cached_tap() {
	local name=$1 key=$2 dir=$XH_CACHE/results f rc tmp
	shift 2
	f=$dir/$name-$key.tap
	if tap_kept "$name" "$key"; then
		echo "# $name: the results of $(date -u -r "$f" '+%F %H:%M') UTC for the same inputs ($f; XH_RERUN=1 runs it again)"
		cat "$f"
		return 0
	fi
	[ -z "${XH_REPLAY_ONLY:-}" ] || return 3
	mkdir -p "$dir"
	tmp=$(mktemp -p "$dir" "$name.XXXXXX")
	"$@" | tee "$tmp"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ] && grep -q '^ok ' "$tmp" && ! grep -q '^not ok ' "$tmp" &&
		[ -z "${XH_NO_KEEP:-}" ] && base_is_pinned; then
		mv "$tmp" "$f"
	else
		rm -f "$tmp"
	fi
	return "$rc"
}
