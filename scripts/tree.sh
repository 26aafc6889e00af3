#!/usr/bin/env bash
# make tree: build/linux = pristine Debian base (commit tagged "base") + patches/ as commits.
# BASE=mainline|6.12|6.1 picks the base (kernel/bases/$BASE.pin); a base
# other than the primary one has its tree in build/$BASE/linux and its series
# in patches/$BASE/.
#
# The base comes from the Debian package that the pin names, fetched with
# "apt-get download" from the pin's apt source alone (lib.sh, apt_source;
# nothing is installed system-wide) and checked against the pinned sha256.
# An existing tree is reset to base only if it holds nothing that "make
# export" has not written back, so work in progress is never thrown away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

package=$(pin PACKAGE)
version=$(pin VERSION)
want_sha=$(pin TARBALL_SHA256)
source=$(pin SOURCE)

newest_version() {
	apt_source "$source" apt-cache madison "$package" 2>/dev/null | awk '{ print $3 }' | sort -V | tail -n 1
}

# Refuse to reset a tree holding commits or edits that patches/ does not have.
check_exported() {
	[ -z "$(git -C "$LINUX" status --porcelain --untracked-files=no)" ] ||
		die "$LINUX has uncommitted changes; commit them (and run 'make export') or discard them first"
	exported_unchanged ||
		die "$LINUX holds commits that differ from ${SERIES#"$TOP"/}/; run 'make export' (or FORCE=1 make tree to discard them)"
}

make_base() {
	local tar=$1 v=$2
	say "extracting $package $v into $LINUX"
	rm -rf "$LINUX"
	mkdir -p "$LINUX"
	tar -xJf "$tar" -C "$LINUX" --strip-components=1
	git -C "$LINUX" init -q -b work
	git -C "$LINUX" config user.name "Xen hibernation workbench"
	git -C "$LINUX" config user.email "workbench@localhost"
	git -C "$LINUX" config core.abbrev 12
	git -C "$LINUX" add -A -f .
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git -C "$LINUX" commit -q -m "Debian $package $v (pristine base)"
	git -C "$LINUX" tag -f base >/dev/null
	printf '%s\n' "$v" > "$LINUX/.git/xh-base-version"
}

apply_series() {
	local p out
	while read -r p; do
		[ -f "$p" ] || die "patches/series names ${p##*/}, which does not exist"
		if ! out=$(git -C "$LINUX" am --keep-cr "$p" 2>&1); then
			git -C "$LINUX" am --abort >/dev/null 2>&1 || true
			printf '%s\n' "$out" | grep -E '^(error|Patch failed|.*hunk)' >&2 || printf '%s\n' "$out" >&2
			die "patch ${p##*/} does not apply (see the failing file and hunk above)"
		fi
	done < <(series_patches)
}

main() {
	local v=$version tar have
	need_space 4 "$BUILD"
	if ! tar=$(fetch_base "$source" "$package" "$v"); then
		v=$(newest_version)
		[ -n "$v" ] || die "$package is not served by $source"
		say "##################################################################"
		say "WARNING: pinned $package $version is no longer served;"
		say "WARNING: using the newest $package instead: $v"
		say "##################################################################"
		tar=$(fetch_base "$source" "$package" "$v")
	fi
	if [ "$v" = "$version" ]; then
		have=$(sha256sum "$tar" | cut -d' ' -f1)
		[ "$have" = "$want_sha" ] || {
			rm -f "$tar"
			die "checksum mismatch for $package $v: got $have, pinned $want_sha"
		}
	fi

	if [ -d "$LINUX/.git" ] && git -C "$LINUX" rev-parse -q --verify base >/dev/null &&
		[ "$(cat "$LINUX/.git/xh-base-version" 2>/dev/null)" = "$v" ]; then
		[ -n "${FORCE:-}" ] || check_exported
		git -C "$LINUX" am --abort >/dev/null 2>&1 || true
		git -C "$LINUX" checkout -q -f -B work base
	else
		# A new base version replaces the tree: only if nothing is lost.
		if [ -d "$LINUX/.git" ] && git -C "$LINUX" rev-parse -q --verify base >/dev/null; then
			[ -n "${FORCE:-}" ] || check_exported
		fi
		make_base "$tar" "$v"
	fi
	apply_series
	say "$LINUX: base $v + $(git -C "$LINUX" rev-list --count base..HEAD) patches"
}

main "$@"
