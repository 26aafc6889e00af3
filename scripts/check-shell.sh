#!/usr/bin/env bash
# scripts/check-shell.sh: shellcheck -S warning over every shell script of
# the project (a .sh name, a sh/bash shebang or a "shellcheck shell="
# line), one TAP line each.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1

shell_scripts() {
	local f
	git ls-files | grep -v '^patches/' | while read -r f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh) echo "$f" ;;
		*) head -n 3 "$f" | grep -qE '^#!.*\b(ba)?sh\b|^# shellcheck shell=' && echo "$f" ;;
		esac
	done
}

mapfile -t files < <(shell_scripts)
n=0 rc=0
echo "1..${#files[@]}"
for f in "${files[@]}"; do
	n=$((n + 1))
	if out=$(shellcheck -S warning "$f" 2>&1); then
		echo "ok $n - shellcheck $f"
	else
		rc=1
		echo "not ok $n - shellcheck $f"
		printf '%s\n' "$out" | head -n 30 | sed 's/^/#   /'
	fi
done
exit $rc
