#!/usr/bin/env bash
# selftest-guest-fault: a triple fault that the guest itself causes is kept,
# its state saved, and judged not to be the rig's (lab/lib/faults.sh).  The
# lab guest loads tripfault (lab/guest/modules), which loads its own IDT with
# a limit of 0 and waits for an interrupt: the domain must shut down for a
# reboot and stay (on_reboot = "preserve"), dom_wait_gone must say so,
# dom_destroy must leave Xen's state of its vCPU (xen-hvmctx) in the logs,
# and the fault must fail a scenario: no "+inject" (the IDT cannot hold the
# event), not the rig's.  Then a boot that ends so (lab.tripfault): not
# booted again, and booted again LAB_MAX_RETRIES times when the library is
# told that such a fault is the rig's; a restored guest that faults so in
# its cycle's checks costs a repeat of the cycle (hib_cycle_checked).
# lab-timeout-s: 300
# lab-min-s: 350
. "$(dirname "$0")/../lib/lab.sh"
NAME=tripf
lab_boot
ramdisk=$(guest_module_ramdisk tripfault) || fail "no initramfs with tripfault"
DOM_RAMDISK=$ramdisk dom_create "$NAME" || fail "guest did not boot"
id=$DOM_ID
ser0=$(stat -c %s "$LAB_RUN/serial.log")
dom_run "$NAME" 'insmod /lib/tripfault.ko' 30 >/dev/null || fail "cannot load tripfault"
dom_send "$NAME" 'echo 1 > /sys/module/tripfault/parameters/now' >/dev/null || fail "cannot send the trigger"
dom_wait_gone "$NAME" 60 >/dev/null
rc=$?
[ $rc = 3 ] || fail "dom_wait_gone returned $rc, want 3 (shut down for a reboot, kept)"
lab_log "domain $id shut down for a reboot and was kept"
dom_destroy "$NAME"
ctx=$LAB_SCEN_LOG/hvmctx-$id.txt
grep -q '^Entry [0-9]*: type 2 instance 0,' "$ctx" 2>/dev/null || fail "no saved vCPU state in $ctx"
lab_log "saved state: $(hvmctx_event "$ctx" 0), $(grep -m1 'idtr' "$ctx" | tr -s ' ')"
# The state is the one the rig's faults are told by, except for the IDT's
# limit: an event being injected, the guest's own tables, paging on.
case $(hvmctx_event "$ctx" 0) in event=0x8*) ;; *) fail "no event being injected in the saved state" ;; esac
sed 's/^\( *idtr  *(0xfffffe0000000000 + *\)0*)$/\10x0fff)/' "$ctx" > "$LAB_SCEN_LOG/hvmctx-whole-idt.txt"
hvmctx_inject "$LAB_SCEN_LOG/hvmctx-whole-idt.txt" 0 >/dev/null ||
	fail "the saved state with the IDT's limit made whole is not one of the rig's"
! hvmctx_inject "$ctx" 0 >/dev/null || fail "an injection through an IDT of limit 0 taken for the rig's"
line=$(rig_faults_since "$ser0" "$id" "$(dom_ready_text "$NAME")" "$(dom_system_map "$NAME")") ||
	fail "no triple fault of domain $id in Xen's log"
[ "$(wc -l <<< "$line")" = 1 ] || fail "more than one fault: $line"
read -r _ sig _ <<< "$line"
lab_log "fault: $line"
[[ $sig == guest* ]] || fail "fault '$sig' is not the guest's"
[[ $sig != *+inject:* ]] || fail "'$sig': an injection through an IDT of limit 0 taken as intact"
! rig_fault_is_rigs "$sig" || fail "'$sig' taken for the rig's"
lab_log "a guest's own triple fault: $sig, not the rig's"

# retries: the run's lines of faults absorbed so far.  The boots retried
# below are not the rig's: their lines go again when the scenario ends.
retries() { cat "$LAB_RUN/retries" 2>/dev/null | wc -l; }
r0=$(retries)
lab_on_exit "{ head -n $r0 '$LAB_RUN/retries' > '$LAB_RUN/retries.tmp' && mv '$LAB_RUN/retries.tmp' '$LAB_RUN/retries'; } 2>/dev/null"
! DOM_CMDLINE_EXTRA=lab.tripfault DOM_RAMDISK=$ramdisk dom_create "$NAME" 2>/dev/null ||
	fail "a boot that triple-faults reported ready"
why=$(cat "$LAB_SCEN_LOG/reason")
[ "$(retries)" = "$r0" ] || fail "a boot fault that is not the rig's was retried: $(tail -n 1 "$LAB_RUN/retries")"
case $why in *"triple fault while booting"*) ;; *) fail "boot fault reported as '$why'" ;; esac
lab_log "a boot ended by its own triple fault: '$why', not retried"
! RIG_FAULT_SIGNATURES='^guest' LAB_MAX_RETRIES=1 DOM_CMDLINE_EXTRA=lab.tripfault DOM_RAMDISK=$ramdisk \
	dom_create "$NAME" 2>/dev/null || fail "a boot that triple-faults reported ready"
why=$(cat "$LAB_SCEN_LOG/reason")
[ "$(retries)" = $((r0 + 1)) ] || fail "with its fault taken for the rig's: $(($(retries) - r0)) boots retried, want 1"
case $why in *"1 boots retried already"*) ;; *) fail "after the retry, reported as '$why'" ;; esac
lab_log "taken for the rig's: booted again once, then '$why'"
rm -f "$LAB_SCEN_LOG/reason"	# the failures above were this test's to expect

# A restored guest that faults during its cycle's checks: with the fault
# declared the rig's, hib_cycle_checked boots the guest afresh, repeats the
# cycle, and the checks pass the second time (the fault comes only once).
DOM_RAMDISK=$ramdisk dom_create "$NAME" || fail "guest did not boot"
tripped=$LAB_SCEN_LOG/tripped
check='if [ ! -e "$tripped" ]; then
	touch "$tripped"
	dom_run "$NAME" "insmod /lib/tripfault.ko" 30 >/dev/null || fail "cannot load tripfault"
	dom_send "$NAME" "echo 1 > /sys/module/tripfault/parameters/now" >/dev/null
fi
out=$(dom_run "$NAME" "cat /proc/sys/kernel/random/boot_id" 30) || fail "no answer from the restored guest"'
RIG_FAULT_SIGNATURES='^guest' hib_cycle_checked "$NAME" : "$check" || fail "cycle failed: $HIB_FAIL"
[ -e "$tripped" ] || fail "the checks never ran"
n=$(cat "$LAB_SCEN_LOG/rig-repeats" 2>/dev/null | wc -l)
[ "$n" = 1 ] || fail "$n cycles repeated, want 1"
lab_log "restored guest faulted in its checks: $(cat "$LAB_SCEN_LOG/rig-repeats")"
dom_destroy "$NAME"
