#!/usr/bin/env bash
# make pin BASE=NAME: move kernel/bases/NAME.pin to the newest kernel Debian
# publishes for that base: for mainline the newest linux-source-X.Y of
# experimental and sid, for an LTS base the newest version of its package in
# its suite.  Downloads it, writes the package, version, tarball sha256 and
# apt source into the pin, and says what changed; "make tree BASE=NAME" then
# rebuilds the tree on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SUITES_MAINLINE=("deb [signed-by=$KEYRING] http://deb.debian.org/debian experimental main"
	"deb [signed-by=$KEYRING] http://deb.debian.org/debian sid main")

# newest_in SOURCE PATTERN: "PACKAGE VERSION" of the newest package whose
# name matches the extended regular expression PATTERN in SOURCE.
newest_in() {
	local source=$1 pattern=$2
	apt_source "$source" apt-get -q update >&2 || return 1
	apt_source "$source" apt-cache dumpavail |
		awk -v re="^$pattern\$" '/^Package: /{ p = ($2 ~ re) ? $2 : "" } /^Version: /{ if (p != "") print p, $2 }' |
		newest_of
}

# newest_of: of "PACKAGE VERSION [REST]" lines, the one of the highest
# Debian version.
newest_of() {
	local best='' bv='' p v rest
	while read -r p v rest; do
		if [ -z "$bv" ] || dpkg --compare-versions "$v" gt "$bv"; then
			best="$p $v${rest:+ $rest}" bv=$v
		fi
	done
	[ -z "$bv" ] || printf '%s\n' "$best"
}

# set_key KEY VALUE: the pin's KEY line says VALUE.
set_key() {
	local tmp
	grep -q "^$1=" "$PIN" || die "kernel/bases/$BASE.pin has no $1= line"
	tmp=$(mktemp)
	awk -v k="$1" -v v="$2" 'index($0, k "=") == 1 { $0 = k "=" v } { print }' "$PIN" > "$tmp"
	cat "$tmp" > "$PIN"
	rm -f "$tmp"
}

main() {
	local old_pkg old_ver source pkg ver best s line tar sha
	old_pkg=$(pin PACKAGE)
	old_ver=$(pin VERSION)
	if [ "$BASE" = mainline ]; then
		best=$(for s in "${SUITES_MAINLINE[@]}"; do
			line=$(newest_in "$s" 'linux-source-[0-9]+\.[0-9]+') && printf '%s %s\n' "$line" "$s"
		done | newest_of)
		[ -n "$best" ] || die "no linux-source package found in experimental or sid"
		read -r pkg ver source <<< "$best"
	else
		source=$(pin SOURCE)
		line=$(newest_in "$source" "${old_pkg//./[.]}") || die "cannot read $source"
		[ -n "$line" ] || die "$old_pkg is not served by $source"
		read -r pkg ver <<< "$line"
	fi
	if [ "$pkg" = "$old_pkg" ] && [ "$ver" = "$old_ver" ]; then
		say "kernel/bases/$BASE.pin: $pkg $ver is the newest already"
		return 0
	fi
	tar=$(fetch_base "$source" "$pkg" "$ver") || die "cannot download $pkg $ver from $source"
	sha=$(sha256sum "$tar" | cut -d' ' -f1)
	set_key PACKAGE "$pkg"
	set_key VERSION "$ver"
	set_key TARBALL_SHA256 "$sha"
	set_key SOURCE "$source"
	sed -i "s|^# sha256 of usr/src/linux-source-[0-9.]*\.tar\.xz|# sha256 of usr/src/$pkg.tar.xz|" "$PIN"
	say "kernel/bases/$BASE.pin: $old_pkg $old_ver -> $pkg $ver ($source)"
}

main "$@"
