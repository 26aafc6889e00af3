# Paths and small helpers shared by the lab scripts.  Source it; do not run it.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths are for the scripts that source this

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=$LAB_TOP/lab
BUILD=${BUILD:-$LAB_TOP/build}
# build/lab is shared into dom0 as /lab (9p): images, run-time control files, logs.
LAB_BUILD=${LAB_BUILD:-$BUILD/lab}
XH_CACHE=${XH_CACHE:-/var/cache/xen-hibernation}
LAB_CACHE=$XH_CACHE/lab
# The guest kernel of the base under test (BASE, as for make kernel): the
# primary base's in build/obj/guest, another base's in build/$BASE/obj/guest.
if [ -n "${BASE:-}" ] && [ "$BASE" != "$(cat "$LAB_TOP/kernel/bases/primary")" ]; then
	GUEST_OBJ=${GUEST_OBJ:-$BUILD/$BASE/obj/guest}
else
	GUEST_OBJ=${GUEST_OBJ:-$BUILD/obj/guest}
fi

lab_say() { printf '%s [%s] %s\n' "$(date -u +%H:%M:%S)" "${0##*/}" "$*" >&2; }
lab_die() { printf '%s [%s] error: %s\n' "$(date -u +%H:%M:%S)" "${0##*/}" "$*" >&2; exit 1; }
