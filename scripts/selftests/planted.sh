# Planted-defect tests of scripts/check-series.sh: the helpers.  Source it.
#
# Each test commits one defect on top of the series that check-series last
# applied in full (refs/check/series), exports it as a patch, runs check-series on
# that patch alone (START= the series head, CHECKS= the matching checks) and
# passes only if the matching check fails and names the planted patch.
# shellcheck shell=bash
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/scripts/lib.sh"
WT=$BASE_BUILD/check/linux
SCRATCH=$BASE_BUILD/check/planted

# planted_patch NAME FILE SED-EXPR|-  -> prints the patch dir; stdin is the
# new content of FILE when SED-EXPR is "-".  Built with git plumbing on a
# private index: no checkout of the 80k-file tree.
planted_patch() {
	local name=$1 file=$2 expr=$3 dir=$SCRATCH/$1 blob tree commit
	git -C "$WT" rev-parse -q --verify refs/check/series >/dev/null ||
		die "no checked series in $WT; run 'make check-series' first"
	rm -rf "$dir" && mkdir -p "$dir/patches"
	git -C "$WT" show "refs/check/series:$file" > "$dir/orig" || die "no $file in the series"
	if [ "$expr" = - ]; then cat > "$dir/new"; else sed "$expr" "$dir/orig" > "$dir/new"; fi
	cmp -s "$dir/orig" "$dir/new" && die "planting $name changed nothing in $file"
	blob=$(git -C "$WT" hash-object -w "$dir/new")
	tree=$(export GIT_INDEX_FILE=$dir/index
		git -C "$WT" read-tree refs/check/series &&
		git -C "$WT" update-index --cacheinfo "100644,$blob,$file" &&
		git -C "$WT" write-tree) || die "cannot build the planted tree"
	commit=$(printf 'planted: %s\n\nA defect planted to prove that check-series catches it.\n\nSigned-off-by: planted <planted@localhost>\n' "$name" |
		git -C "$WT" -c user.name=planted -c user.email=planted@localhost \
			commit-tree "$tree" -p refs/check/series) || die "cannot commit the planted defect"
	git -C "$WT" format-patch -q --zero-commit --no-signature -o "$dir/patches" -1 "$commit"
	(cd "$dir/patches" && ls ./*.patch | sed 's|^\./||') > "$dir/patches/series"
	printf '%s\n' "$dir/patches"
}

# expect_caught TAPNAME PATCHDIR CHECKS CHECK-LABEL
expect_caught() {
	local tap=$1 dir=$2 checks=$3 label=$4 out patch
	patch=$(head -n 1 "$dir/series")
	out=$(PATCHES=$dir CHECKS=$checks START=refs/check/series \
		"$TOP/scripts/check-series.sh" 2>&1)
	if [ $? -ne 0 ] && printf '%s\n' "$out" | grep -q "^not ok .* ${patch%.patch}: $label"; then
		echo "ok 1 - $tap"
	else
		echo "not ok 1 - $tap"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
	echo "1..1"
}
