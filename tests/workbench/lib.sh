# Planted-defect tests of scripts/check-series.sh.  Source it.
#
# Each test commits one defect on top of the series that check-series last
# applied in full (refs/check/series), in a scratch worktree, exports it as a patch, runs check-series on
# that patch alone (START= the series head, CHECKS= the matching checks) and
# passes only if the matching check fails and names the planted patch.
# shellcheck shell=bash
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/scripts/lib.sh"
WT=$BUILD/check/linux
SCRATCH=$BUILD/check/planted

# planted_patch NAME FILE SED-EXPR|-  -> prints the patch dir; stdin is the
# new content of FILE when SED-EXPR is "-".
planted_patch() {
	local name=$1 file=$2 expr=$3 dir=$SCRATCH/$1
	git -C "$WT" rev-parse -q --verify refs/check/series >/dev/null ||
		die "no checked series in $WT; run 'make check-series' first"
	rm -rf "$dir" && mkdir -p "$dir/patches"
	git -C "$WT" worktree prune
	git -C "$WT" worktree add -q --detach "$dir/tree" refs/check/series >/dev/null 2>&1 || die "cannot make a scratch tree"
	if [ "$expr" = - ]; then cat > "$dir/tree/$file"; else sed -i "$expr" "$dir/tree/$file"; fi
	git -C "$dir/tree" add -f "$file"
	git -C "$dir/tree" -c user.name=planted -c user.email=planted@localhost \
		commit -q -s -m "planted: $name" -m "A defect planted to prove that check-series catches it."
	git -C "$dir/tree" format-patch -q --zero-commit --no-signature -o "$dir/patches" -1 HEAD
	(cd "$dir/patches" && ls ./*.patch | sed 's|^\./||') > "$dir/patches/series"
	git -C "$WT" worktree remove --force "$dir/tree"
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
