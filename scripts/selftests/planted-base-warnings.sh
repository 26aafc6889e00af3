#!/usr/bin/env bash
# A make that fails while base's warnings are collected must not turn base's
# own warnings into "new" ones in a later patch.  manage.c has a W=1 warning
# at base and hvc_xen.c a sparse one; the first W=1 and the first C=2 make
# (base's) compile as usual and then fail, as a make that lost one object to
# a race does.  A patch that only adds a comment to the file must still pass
# "no new ... warnings", with the failure shown.
. "$(dirname "$0")/planted.sh"
bin=$SCRATCH/make-fails-once
mkdir -p "$bin"
cat > "$bin/make" <<'MAKE'
#!/bin/sh
# The first make with W=1, and the first with C=2, fail after their work.
for flag in W=1 C=2; do
	case " $* " in *" $flag "*)
		[ -e "${0%/*}/failed.$flag" ] && break
		: > "${0%/*}/failed.$flag"
		make "$@"
		echo "make: *** [planted] Error 2" >&2
		exit 2 ;;
	esac
done
exec make "$@"
MAKE
chmod +x "$bin/make"

n=0
check_again() {	# check_again FLAG CHECK FILE SED-EXPR LABEL
	local flag=$1 check=$2 file=$3 expr=$4 label=$5 dir out rc patch tap
	n=$((n + 1))
	tap="$flag: base's warnings collected again after a failed make"
	rm -f "$bin/failed.$flag"
	dir=$(planted_patch "comment-only-$check" "$file" "$expr") || { echo "not ok $n - $tap"; return; }
	patch=$(head -n 1 "$dir/series")
	out=$(KMAKE=$bin/make PATCHES=$dir CHECKS="applies build $check" START=refs/check/series \
		"$TOP/scripts/check-series.sh" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -e "$bin/failed.$flag" ] &&
		printf '%s\n' "$out" | grep -q "^# make $flag failed (try 1 of 2)" &&
		printf '%s\n' "$out" | grep -q "^ok .* ${patch%.patch}: $label"; then
		echo "ok $n - $tap"
	else
		echo "not ok $n - $tap"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
}
check_again W=1 w1 drivers/xen/manage.c \
	's|^static void do_suspend(void)$|/* A comment, no code change. */\n&|' "no new W=1 warnings"
check_again C=2 sparse drivers/tty/hvc/hvc_xen.c \
	's|^void xen_console_resume(void)$|/* A comment, no code change. */\n&|' "no new sparse warnings"
echo "1..$n"
