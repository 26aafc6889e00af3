#!/usr/bin/env bash
# A make that fails while base's warnings are collected must not turn base's
# own warnings into "new" ones in a later patch.  manage.c has a W=1 warning
# at base and hvc_xen.c a sparse one.  The first W=1 and the first C=2 make
# (base's) compile as usual, lose their output and fail, as a make that
# stopped early does; a patch that only adds a comment to the file must
# still pass "no new ... warnings", with the failure shown.  A make that
# always fails must fail the run, with base's list said to be incomplete.
. "$(dirname "$0")/planted.sh"
bin=$SCRATCH/make-fails-once
mkdir -p "$bin"
cat > "$bin/make" <<'MAKE'
#!/bin/sh
# The first make with W=1, and the first with C=2, fail after their work
# and without its output; every one fails while "always" exists.
for flag in W=1 C=2; do
	case " $* " in *" $flag "*)
		[ -e "${0%/*}/failed.$flag" ] && [ ! -e "${0%/*}/always" ] && break
		: > "${0%/*}/failed.$flag"
		make "$@" > /dev/null 2>&1
		echo "make: *** [planted] Error 2" >&2
		exit 2 ;;
	esac
done
exec make "$@"
MAKE
chmod +x "$bin/make"

n=0
run_planted() {	# run_planted FLAG CHECK FILE SED-EXPR: sets out, rc, patch
	local flag=$1 check=$2 file=$3 expr=$4 dir
	rm -f "$bin"/failed.*
	dir=$(planted_patch "comment-only-$check" "$file" "$expr") || { out="cannot plant" rc=0 patch=none; return; }
	patch=$(head -n 1 "$dir/series")
	out=$(KMAKE=$bin/make PATCHES=$dir CHECKS="applies build $check" START=refs/check/series \
		"$TOP/scripts/check-series.sh" 2>&1)
	rc=$?
}
result() {	# result OK TAPNAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
}
check_again() {	# check_again FLAG CHECK FILE SED-EXPR LABEL
	local flag=$1 label=$5
	rm -f "$bin/always"
	run_planted "$@"
	[ $rc -eq 0 ] && [ -e "$bin/failed.$flag" ] &&
		printf '%s\n' "$out" | grep -q "^# make $flag failed (try 1 of 2)" &&
		printf '%s\n' "$out" | grep -q "^ok .* ${patch%.patch}: $label"
	result $? "$flag: base's warnings collected again after a failed make"
}
manage='s|^static void do_suspend(void)$|/* A comment, no code change. */\n&|'
check_again W=1 w1 drivers/xen/manage.c "$manage" "no new W=1 warnings"
check_again C=2 sparse drivers/tty/hvc/hvc_xen.c \
	's|^void xen_console_resume(void)$|/* A comment, no code change. */\n&|' "no new sparse warnings"
: > "$bin/always"
run_planted W=1 w1 drivers/xen/manage.c "$manage"
rm -f "$bin/always"
[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q "^# make W=1 failed (try 2 of 2)" &&
	printf '%s\n' "$out" | grep -q "^not ok .* base: W=1 warnings of .* collected" &&
	printf '%s\n' "$out" | grep -q "^ok .* ${patch%.patch}: no new W=1 warnings # SKIP base's list is incomplete"
result $? "W=1: a make that always fails fails the run, base's list said incomplete"
echo "1..$n"
