#!/usr/bin/env bash
# make tree on a tree that make tree built and nothing changed since: it must
# find the tree exported, rebuild it from patches/ and exit 0 (a clean-up
# trap once outlived its function there and failed the script on "tmp:
# unbound variable").
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"
if out=$("$TOP/scripts/tree.sh" 2>&1) && [ "$(git -C "$LINUX" rev-list --count base..HEAD)" = "$(series_patches | wc -l)" ]; then
	echo "ok 1 - make tree again on an exported tree"
else
	echo "not ok 1 - make tree again on an exported tree"
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
fi
echo "1..1"
