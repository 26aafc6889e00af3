#!/usr/bin/env bash
# make mail: refuses to sign as nobody or as the workbench's placeholder,
# and otherwise writes every patch of the series, in order, once, into the
# sets, each patch and cover letter from and signed off by the sender.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lib.sh"
out=$BUILD/check/mail
mkdir -p "${out%/*}"
n=0 failed=0
check() {	# check DESCRIPTION COMMAND...
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - make mail: $1"
	else echo "not ok $n - make mail: $1"; failed=$((failed + 1)); fi
}
mail() { OUT=$out MAIL_CHECK=0 "$TOP/scripts/mail.sh" > "$out.log" 2>&1; }
no_identity() {
	! MAIL_FROM='' GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0='' \
		GIT_CONFIG_KEY_1=user.email GIT_CONFIG_VALUE_1='' mail &&
		grep -q "no identity to send as" "$out.log"
}
placeholder() {
	! MAIL_FROM='Xen hibernation workbench <workbench@localhost>' mail &&
		grep -q "placeholder" "$out.log"
}
sender='Test Sender <test-sender@example.invalid>'
written() {
	local got want
	MAIL_FROM=$sender mail || { sed 's/^/#   /' "$out.log"; return 1; }
	got=$(for s in "$out"/*/; do sed 's/^[0-9]*-//' "$s/series"; done)
	want=$(series_patches | sed 's|.*/[0-9]*-||')
	[ "$got" = "$want" ] || { echo "#   the sets do not hold the series in order"; return 1; }
	! grep -rlF 'workbench@localhost' "$out" | sed 's/^/#   placeholder in /' | grep . &&
	[ "$(grep -rh '^From: ' "$out" --include='*.patch' | sort -u)" = "From: $sender" ] &&
	[ "$(grep -rh '^Signed-off-by: ' "$out" --include='*.patch' | sort -u)" = "Signed-off-by: $sender" ]
}
check "refuses without an identity" no_identity
check "refuses the placeholder identity" placeholder
check "writes the series in sets, from and signed off by the sender" written
echo "1..$n"
[ "$failed" -eq 0 ]
