#!/usr/bin/env bash
# s4-kaslr: KASLR_CYCLES (10) hibernation cycles of an HVM guest with
# CONFIG_RANDOMIZE_BASE=y, so that the kernel loading the image and the image
# sit at different, random offsets.  (A PVH guest is entered at its PVH entry
# point and never runs the decompressor that picks the offset.)  The guest
# resumes from its init (lab.resume_from_init), which first prints the
# loading kernel's _text; every cycle must restore on a new domain with the
# image's _text unchanged, its ext4 files and xvda's fio pattern intact, and
# the scenario fails unless the loaders' offsets differed from the image's.
# The loader also prints the frames holding its vCPUs' vcpu_info (Xen keeps
# that registration): they must be the image's in every cycle.
# At the end the restored guest must obey xl shutdown (xenstore watches).
# A cycle ended by a rig fault is repeated from a fresh boot of the same
# disks (lab/lib/hib.sh, hib_cycle), whose _text becomes the image's.
# With s4-hvm's 3, make check runs 13 HVM cycles with KASLR, as many as it
# took in 2026-11 to see the one hang a 1-in-13 bug gave (1 - (12/13)^13,
# about 65% per run); make kaslr [N=20] runs more.
# lab-min-s: 1250
# lab-timeout-s: 1500
. "$(dirname "$0")/../lib/lab.sh"
N=${KASLR_CYCLES:-10}
NAME=kaslr
export DOM_TYPE=hvm DOM_READY_TIMEOUT=${HVM_READY_TIMEOUT:-300}
export DOM_CMDLINE="console=hvc0 xen_hibernation no_console_suspend pm_debug_messages lab.resume_from_init"
text() { dom_run "$NAME" "awk '\$3 == \"_text\" { print \$1; exit }' /proc/kallsyms" 30; }
# image_state: where the running kernel, the one the next image will hold,
# sits (_text) and keeps its vcpu_info (image_vi).
image_state() {
	image=$(text)
	[ -n "$image" ] && [ "$image" != 0000000000000000 ] || fail "cannot read the guest's _text from /proc/kallsyms ('$image')"
	image_vi=$(dom_run "$NAME" "dmesg | sed -n 's/.*vcpu_info of vCPUs .* in pfn //p' | head -n 1" 30)
	[ -n "$image_vi" ] || fail "the guest kernel does not say where its vcpu_info frames are"
}
lab_boot
dom_create "$NAME" 1 || fail "$NAME did not become ready"
image_state
dom_run "$NAME" 'dmesg | grep -i -E "kaslr|randomiz" | head -n 3' 30 | sed 's/^/# /' >&2
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"
lab_log "image _text $image"
differed=0
loaders=
for c in $(seq 1 "$N"); do
	ext4_add_file "$NAME" "k$c" 8 ||
		fail "cycle $c/$N: writing to the ext4 on xvdc failed"
	old=$(dom_id "$NAME")
	hib_cycle "$NAME" image_state || fail "cycle $c/$N: hibernation failed: $HIB_FAIL"
	loader=$(dom_log "$NAME" | grep -a -o '@@LOADER text=[0-9a-f]*' | tail -n 1)
	loader=${loader#*=}
	[ -n "$loader" ] || fail "cycle $c/$N: the loading kernel did not print its _text"
	loader_vi=$(dom_log "$NAME" | grep -a -o '@@LOADER text=[0-9a-f]* vcpu_info=[0-9a-fx-]*' | tail -n 1)
	loader_vi=${loader_vi##*=}
	[ "$loader_vi" = "$image_vi" ] || fail "cycle $c/$N: the loading kernel's vcpu_info frames are '$loader_vi', the image's $image_vi"
	now=$(text)
	[ "$now" = "$image" ] || fail "cycle $c/$N: the restored kernel's _text is $now, the image's was $image"
	data_intact "$NAME" "cycle $c/$N"
	[ "$loader" != "$image" ] && differed=$((differed + 1))
	loaders="$loaders $loader"
	lab_log "cycle $c/$N: domid $old -> $DOM_ID, loader _text $loader, image $image, vcpu_info $image_vi in both, off ${HIB_T_OFF}s, resumed ${HIB_T_RESUMED}s after create"
done
distinct=$(printf '%s\n' $loaders | sort -u | wc -l)
lab_metric kaslr-cycles "$N"
lab_metric kaslr-loader-offsets-differing "$differed"
lab_metric kaslr-distinct-loader-offsets "$distinct"
lab_log "$N/$N cycles restored; the loader's _text differed from the image's in $differed, $distinct distinct loader offsets"
[ "$differed" -gt 0 ] || fail "the loading kernel sat at the image's offset in all $N cycles: KASLR did not take effect"
[ "$N" -lt 3 ] || [ "$distinct" -gt 1 ] || fail "the loading kernel sat at the same offset in all $N cycles: KASLR did not take effect"
# The restored guest must still follow xenstore: its control/shutdown watch
# was set by the image, at its own address, not by the loading kernel.
# xl waits for the guest to take the request (it removes control/shutdown).
id=$DOM_ID
if ! dom0_run -t 90 "xl shutdown $NAME" >/dev/null || ! dom_wait_gone "$NAME" 120 >/dev/null; then
	req=$(dom0_run -t 30 "xenstore-read /local/domain/$id/control/shutdown 2>&1")
	[ -n "$req" ] && fail "the restored guest ignored xl shutdown (control/shutdown still '$req': its xenstore watches were not set again after the restore)"
	fail "the restored guest took the xl shutdown request but did not power off"
fi
lab_log "xl shutdown: the restored guest powered off"
