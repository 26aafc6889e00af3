#!/usr/bin/env bash
# s4-wallclock: the host's wall clock is set while the guest is hibernated,
# as when its disks are restored on another host or after a clock fix.  Xen
# gives every new domain the current wall clock in its shared info page; the
# restored guest must follow it, like a machine reading its RTC on resume,
# and not the one its image was taken with.  Dom0 sets the clock WALL_STEP
# (3600) seconds ahead between the power-off and the restore (Linux in dom0
# passes the new time to Xen), and sets it back at the end.  The guest's
# wall clock offset to dom0's must stay within 5 s across the cycle.
. "$(dirname "$0")/../lib/lab.sh"
NAME=wallclock
STEP=${WALL_STEP:-3600}
lab_boot
dom_create "$NAME" 1 || fail "$NAME did not become ready"
off0=$(dom_wall_offset "$NAME") || fail "cannot read the wall clocks"
lab_log "before: guest wall clock ${off0}s ahead of dom0's"
# dom0's clock goes back only if it went forward (the marker says so).
lab_on_exit 'dom0_run "[ -e /scratch/wallclock.ahead ] && rm /scratch/wallclock.ahead && date -s @\$((\$(date +%s) - $STEP))" >/dev/null 2>&1'
HIB_WHILE_OFF="date -s @\$((\$(date +%s) + $STEP)) && touch /scratch/wallclock.ahead" dom_hibernate_and_restore "$NAME" >/dev/null ||
	fail "hibernation failed: $HIB_FAIL"
lab_log "dom0's clock set ${STEP}s ahead while the guest was off; resumed as domid $DOM_ID after ${HIB_T_RESUMED}s"
off1=$(dom_wall_offset "$NAME") || fail "cannot read the wall clocks after the restore"
lab_log "after: guest wall clock ${off1}s ahead of dom0's"
lab_metric wallclock-offset-change-s $((off1 - off0))
d=$((off1 - off0)); d=${d#-}
[ "$d" -le 5 ] || fail "the guest's wall clock is ${off1}s off dom0's after the restore (${off0}s before): it kept the clock of the domain it was taken in"
dom_destroy "$NAME"
