#!/usr/bin/env bash
# A make run that fails while collecting the warnings at base must not turn
# base's own warnings into "new" ones in a later patch: hvc_xen.c has a sparse
# warning at base, the first C=2 run (base's) fails at once, and a patch that
# only adds a comment to hvc_xen.c must still pass "no new sparse warnings",
# with the failure shown.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch comment-only drivers/tty/hvc/hvc_xen.c \
	's|^void xen_console_resume(void)$|/* A comment, no code change. */\n&|') || exit 1
bin=$SCRATCH/make-fails-once
mkdir -p "$bin"
rm -f "$bin/failed"
cat > "$bin/make" <<'MAKE'
#!/bin/sh
# The first make with C=2 on its command line fails before building anything.
case " $* " in *" C=2 "*)
	if [ ! -e "${0%/*}/failed" ]; then
		: > "${0%/*}/failed"
		echo "make: *** [planted] Error 2" >&2
		exit 2
	fi ;;
esac
exec make "$@"
MAKE
chmod +x "$bin/make"
out=$(KMAKE=$bin/make PATCHES=$dir CHECKS="applies build sparse" START=refs/check/series \
	"$TOP/scripts/check-series.sh" 2>&1)
rc=$?
patch=$(head -n 1 "$dir/series")
if [ $rc -eq 0 ] && [ -e "$bin/failed" ] &&
	printf '%s\n' "$out" | grep -q "^# make C=2 failed (try 1 of 2)" &&
	printf '%s\n' "$out" | grep -q "^ok .* ${patch%.patch}: no new sparse warnings"; then
	echo "ok 1 - check-series collects base's warnings again after a failed make"
else
	echo "not ok 1 - check-series collects base's warnings again after a failed make"
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
fi
echo "1..1"
