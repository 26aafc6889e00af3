#!/usr/bin/env bash
# make deb: the series' kernel as Debian packages, built with the config
# Debian ships with its cloud kernel of the base's version (the flavour of
# Debian's cloud images), for a distribution kernel team or an operator to
# install with dpkg.  Output: build/deb/*.deb (build/BASE/deb for a base
# other than the primary).
#
# Changes to Debian's config, each for the build, none for what hibernation
# touches (frontends stay modules; KASLR, PVH, HVM, the image compression
# and every PM option stay Debian's):
#  - no debug info (Debian builds it for its -dbg package; the build would be
#    much longer and larger);
#  - no Debian certificates (their files are not in the source package);
#  - LOCALVERSION "+xh-cloud-amd64", so the packages sit beside Debian's own
#    (and LOCALVERSION= on the command line: no "+" for the git tree);
#  - with DEB_MODULES=file (lsmod format; default kernel/configs/debian-guest.lsmod),
#    modules outside that list dropped (make localmodconfig); DEB_MODULES= keeps all.
# DEB_BUILD_PROFILES defaults to no linux-headers package.  Packages are kept
# in $XH_CACHE/deb, by their inputs, for the next build of the same inputs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$TOP/scripts/deps.sh" workbench deb

version=$(pin VERSION)
source=$(pin SOURCE)
flavour=cloud-amd64
obj=$BASE_BUILD/obj/debian
out=$BASE_BUILD/deb
modules=${DEB_MODULES-$TOP/kernel/configs/debian-guest.lsmod}
[ -f "$LINUX/Makefile" ] || die "no kernel tree in $LINUX; run 'make tree' first"
need_space 8 "$BUILD"
mkdir -p "$obj" "$out" "$XH_CACHE/dl" "$CCACHE_DIR"

# config_package: the package of the pin's apt source and version that holds
# Debian's config of the flavour: linux-image-<abi>-<flavour>-unsigned (6.1,
# 6.12) or, since Debian split its image packages (7.x), linux-base-<abi>-<flavour>.
config_package() {
	apt_source "$source" apt-cache dumpavail | awk -v v="$version" -v f="$flavour" '
		/^Package: / { p = ($2 ~ ("^linux-base-.*-" f "$") || $2 ~ ("^linux-image-.*-" f "-unsigned$")) ? $2 : "" }
		/^Version: / { if (p != "" && $2 == v) print p }' | sort | head -n 1
}

# Debian's config, from that package, downloaded once into XH_CACHE/dl.
deb=$(ls "$XH_CACHE"/dl/linux-{base-*-"$flavour",image-*-"$flavour"-unsigned}_"${version}"_amd64.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	pkg=$(config_package)
	[ -n "$pkg" ] || { apt_source "$source" apt-get -q update > /dev/null && pkg=$(config_package); }
	[ -n "$pkg" ] || die "no $flavour kernel package of version $version in $source"
	(cd "$XH_CACHE/dl" && apt_source "$source" apt-get download -q "$pkg=$version" > /dev/null 2>&1) ||
		die "cannot download $pkg=$version from $source"
	deb=$XH_CACHE/dl/${pkg}_${version}_amd64.deb
fi
config=$(dpkg-deb -c "$deb" | awk -v f="$flavour" '
	!c && ($NF ~ ("^[.]/boot/config-.*-" f "$") || $NF ~ ("^[.]/usr/lib/modules/[^/]*-" f "/config$")) { print $NF; c = 1 }')
[ -n "$config" ] || die "no config of $flavour in ${deb##*/}"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "$config" > "$obj/debian.config"

export CCACHE_BASEDIR=$BUILD
mk=(-C "$LINUX" O="$obj" "CC=ccache gcc")
cp "$obj/debian.config" "$obj/.config"
"$LINUX/scripts/config" --file "$obj/.config" \
	--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --enable DEBUG_INFO_NONE \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	--set-str LOCALVERSION "+xh-$flavour"
if [ -n "$modules" ]; then
	[ -f "$modules" ] || die "no module list $modules"
	make -s "${mk[@]}" LSMOD="$modules" localmodconfig < /dev/null > "$obj/localmodconfig.log" 2>&1 ||
		{ tail -n 20 "$obj/localmodconfig.log" >&2; die "localmodconfig failed"; }
fi
make -s "${mk[@]}" olddefconfig > /dev/null
# What hibernation needs must have survived the changes above.
for want in CONFIG_HIBERNATION=y CONFIG_XEN_BLKDEV_FRONTEND=m CONFIG_XEN_NETDEV_FRONTEND=m \
	CONFIG_RANDOMIZE_BASE=y CONFIG_XEN_PVH=y CONFIG_XEN_PVHVM_GUEST=y; do
	grep -qx "$want" "$obj/.config" || die "$want lost from Debian's config"
done

# Packages built before from the same inputs (the tree's content, the final
# config, this script, the compiler, the build's environment) are taken from
# the cache: a fresh clone of an unchanged series does not spend minutes
# rebuilding them.  A tree with changes not committed is always built.
profiles=${DEB_BUILD_PROFILES-pkg.linux-upstream.nokernelheaders}
cache=$XH_CACHE/deb
key=
if [ -z "$(git -C "$LINUX" status --porcelain --untracked-files=all 2>/dev/null)" ] &&
	tree=$(git -C "$LINUX" rev-parse -q --verify 'HEAD^{tree}' 2>/dev/null); then
	key=$({ echo "$tree $version $profiles"; gcc --version | head -n 1
		env | grep -E '^(KCFLAGS|KAFLAGS|KCPPFLAGS|KBUILD_[A-Z_]+)=' | sort
		cat "$obj/.config" "$TOP/scripts/deb.sh"; } | sha256sum | cut -c1-16)
fi
rm -f "$out"/*.deb
mkdir -p "$cache"
if [ -n "$key" ] && ls "$cache/$key"/linux-image-*.deb > /dev/null 2>&1; then
	touch "$cache/$key"
	cp "$cache/$key"/*.deb "$out/"
	say "packages of these inputs taken from $cache/$key: $(cd "$out" && echo *.deb)"
	exit 0
fi

t0=$SECONDS
rm -f "$BASE_BUILD"/obj/*.deb "$BASE_BUILD"/obj/*.buildinfo "$BASE_BUILD"/obj/*.changes
make "${mk[@]}" -j"$JOBS" DEB_BUILD_PROFILES="$profiles" \
	LOCALVERSION= KDEB_PKGVERSION="$version+xh" bindeb-pkg > "$obj/build.log" 2>&1 ||
	{ tail -n 40 "$obj/build.log" >&2; die "bindeb-pkg failed (log: $obj/build.log)"; }
mv "$BASE_BUILD"/obj/*.deb "$out/"
rm -f "$BASE_BUILD"/obj/*.buildinfo "$BASE_BUILD"/obj/*.changes
if [ -n "$key" ]; then
	# Published whole or not at all, one run at a time (clones share the
	# cache); the packages of the three inputs used last are kept.
	tmp=$(mktemp -d "$cache/.new.XXXXXX") && chmod 755 "$tmp"
	cp "$out"/*.deb "$tmp/"
	(
		flock 9
		rm -rf "${cache:?}/$key"
		mv -T "$tmp" "$cache/$key" || rm -rf "$tmp"
		find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}' -printf '%T@ %p\n' |
			sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
	) 9> "$cache/.lock"
fi
say "built in $((SECONDS - t0)) s: $(cd "$out" && echo *.deb)"
