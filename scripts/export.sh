#!/usr/bin/env bash
# make export: write patches/ from base..HEAD of build/linux (for BASE=NAME
# other than the primary base: patches/NAME/ from build/NAME/linux).
#
# Deterministic: no commit ids (--zero-commit), no version signature, names
# from the subjects.  The cover letter is kept by hand in
# patches/0000-cover-letter.patch; only the part below its "-- shortlog --"
# marker (shortlog and diffstat) is regenerated.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${OUT:-$SERIES}
cover=$SERIES/0000-cover-letter.patch
marker='-- shortlog --'

git -C "$LINUX" rev-parse -q --verify base >/dev/null || die "no base in $LINUX; run 'make tree' first"
mkdir -p "$out"
find "$out" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' -delete

git -C "$LINUX" -c core.abbrev=12 -c diff.noprefix=false -c diff.mnemonicPrefix=false \
	format-patch --quiet --zero-commit --no-signature --numbered --no-renames \
	-o "$out" base..HEAD >/dev/null

(cd "$out" && for p in [0-9][0-9][0-9][0-9]-*.patch; do
	case $p in *-cover-letter.patch | '[0-9]'*) ;; *) echo "$p" ;; esac
done) > "$out/series"

n=$(wc -l < "$out/series")
if [ -f "$cover" ]; then
	head=$(sed "/^$marker\$/q" "$cover")
else
	head=$(printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 00/%02d] xen: hibernation support for HVM and PVH guests\n\n(cover letter text)\n\n%s' "$n" "$marker")
fi
{
	printf '%s\n' "$head" | sed "s|^Subject: \[PATCH 00/[0-9]*\]|Subject: [PATCH 00/$(printf %02d "$n")]|"
	echo
	git -C "$LINUX" shortlog base..HEAD | sed 's/[[:space:]]*$//'
	git -C "$LINUX" diff --stat=72 --summary base HEAD
	echo
} > "$out/0000-cover-letter.patch"
say "wrote $n patches to $out"
