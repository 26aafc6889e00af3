#!/usr/bin/env bash
# s4-loader: the kernel that loads the image is the image's kernel, started
# another way.  Xen keeps that kernel's vcpu_info registrations and shared
# info page for the domain; the image must take them over where it expects
# them, or the loading kernel must refuse it with a message, never hang.
#  1. a loader booted with nr_cpus=1 restores an image of two vCPUs: the
#     second vCPU, which the loader could not bring up, must come up in
#     the image and take its own timer events.  (With maxcpus=1 the loader
#     brings every present CPU up before the jump, as x86 does to park
#     them; nr_cpus=1 leaves it only one.)
#  2. a loader that reserves the page where vcpu_info would be, instead of
#     one the image reserves (memmap=, the same amount of memory, so that
#     only the header's layout tells the two apart), must refuse the
#     image, say why, and boot afresh;
#  3. a loader booted without xen_hibernation must refuse the image before
#     reading it, say why, and boot afresh;
#  4. a guest booted without xen_hibernation must not offer hibernation
#     ("disk" missing from /sys/power/state, where the other guests list
#     it), say why when it boots, refuse `echo disk`, and keep running.
# After every case the data written before it is intact.
# lab-min-s: 350
. "$(dirname "$0")/../lib/lab.sh"
NAME=loader
# A page the image's kernel reserves, well above the pages the shared info
# and vcpu_info take; case 2's loader reserves another instead.
image_reserve="memmap=4K\$0x90000"
lab_boot
DOM_CMDLINE_EXTRA=$image_reserve dom_create "$NAME" 2 || fail "$NAME did not become ready"
# The image's configuration, which a fresh boot after a rig fault uses
# (lab/lib/hib.sh); NAME.cfg is the loader's.
cfg=$LAB_RUN/cfg/$NAME.cfg
cp "$cfg" "$cfg.image"
# Where the image's vcpu_info is: its boot says.
pfn=$(dom_log "$NAME" | grep -a -o 'vcpu_info of vCPUs 0-[0-9]* in pfn 0x[0-9a-f]*' | tail -n 1 | sed 's/.* pfn //')
[ -n "$pfn" ] || fail "the guest's console does not say where its vcpu_info is"
offered=$(dom_run "$NAME" 'cat /sys/power/state' 30)
grep -qw disk <<< "$offered" || fail "a guest booted with xen_hibernation does not offer hibernation: /sys/power/state is '$offered'"
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"
files() {	# files N: write file N on xvdc's ext4, record its checksum
	ext4_add_file "$NAME" "l$1" 8 || fail "writing to the ext4 on xvdc failed"
}

# loader_cmdline FROM TO: the next domain's kernel, the one that loads the
# image, has TO where the image's command line has FROM (empty: at its
# end).  The image keeps its own command line.
loader_cmdline() {
	local line
	cp "$cfg.image" "$cfg"
	line=$(grep '^cmdline = ' "$cfg") || fail "no command line in $cfg"
	if [ -n "$1" ]; then line=${line/"$1"/"$2"}; else line="${line%\"} $2\""; fi
	sed -i '/^cmdline = /d' "$cfg" && printf '%s\n' "$line" >> "$cfg"
	grep -q -F -- "$2" "$cfg" || fail "cannot put '$2' in $cfg"
}

# cpu1_ticks: how many interrupts CPU 1's timer (its Xen timer VIRQ,
# "timer1") has taken so far.
cpu1_ticks() {
	dom_run "$NAME" "awk '\$NF == \"timer1\" { print \$2 + \$3 }' /proc/interrupts" 30
}

# 1. A loader with one CPU.  The second vCPU comes up only in the image,
# and must register its vcpu_info there: without, it never finishes coming
# up, or takes no timer interrupt and a sleep on it never ends.
files 1
loader_cmdline '' nr_cpus=1
hib_cycle "$NAME" || fail "hibernation and restore by a loader booted with nr_cpus=1 failed: $HIB_FAIL"
log=$(dom_log "$NAME" | tr -d '\r')
grep -a -q 'Brought up 1 node, 1 CPU$' <<< "$log" ||
	fail "the loading kernel did not say it brought up one CPU"
online=$(dom_run "$NAME" 'cat /sys/devices/system/cpu/online' 30)
[ "$online" = 0-1 ] || fail "vCPUs online after the restore: '$online', not 0-1"
t0=$(cpu1_ticks) || fail "cannot read CPU 1's timer interrupts"
out=$(dom_run "$NAME" 'timeout 20 taskset -c 1 sh -c "sleep 2; echo cpu1 woke"; echo "rc=$?"' 60) ||
	fail "the guest did not answer after the restore"
case $out in *"cpu1 woke"*) ;; *) fail "a sleep on CPU 1 did not end after the restore: $out" ;; esac
t1=$(cpu1_ticks) || fail "cannot read CPU 1's timer interrupts"
[ "${t1:-0}" -gt "${t0:-0}" ] || fail "CPU 1 took no timer interrupt after the restore ($t0 then $t1)"
data_intact "$NAME" "nr_cpus=1 loader"
lab_log "1: loader with nr_cpus=1: restored as domid $DOM_ID after ${HIB_T_RESUMED}s, CPU 1 timer interrupts $t0 -> $t1, data verified"

# 2. A loader that reserves the first vcpu_info page instead of the image's
# page: it registers its vcpu_info one page further up, on a memory map
# with as many pages, and must refuse the image.  Its header value is the
# vcpu_info frame above the shared info frame.
files 2
loader_reserve="memmap=4K\$$(printf '%#x' $((pfn * 4096)))"
loader_cmdline "$image_reserve" "$loader_reserve"
if hib_cycle "$NAME"; then
	fail "a loader booted with $loader_reserve, its vcpu_info elsewhere, restored the image"
fi
[ "$HIB_FAIL" = no-resume ] || fail "hibernation and restore with a loader booted with $loader_reserve failed: $HIB_FAIL"
why=$(dom_log "$NAME" | grep -a -o 'Hibernate inconsistent hypervisor memory layout detected[^!]*' | tail -n 1)
[ -n "$why" ] || fail "the loading kernel booted afresh without saying why it refused the image"
read -r image here <<< "$(sed -n 's/.*(image \(0x[0-9a-f]*\), here \(0x[0-9a-f]*\)).*/\1 \2/p' <<< "$why")"
[ -n "$here" ] && [ $((image >> 32)) = $((pfn)) ] && [ $((here >> 32)) = $((pfn + 1)) ] &&
	[ $((image & 0xffffffff)) = $((here & 0xffffffff)) ] ||
	fail "the refusal does not name vcpu_info at $pfn in the image and one page up in the loader: '$why'"
data_intact "$NAME" "the refused image"
lab_log "2: loader with pfn $pfn reserved: image refused ('$why'), fresh boot as domid $DOM_ID, data verified"

# 3. A loader without xen_hibernation registers vcpu_info in its per-cpu
# areas, not in the image's slots: it must refuse the image at once.  The
# image is taken from a boot with the image's own command line again.
dom_destroy "$NAME"
cp "$cfg.image" "$cfg" && dom_boot "$NAME" || fail "$NAME did not boot again with the image's command line"
files 3
loader_cmdline xen_hibernation xen_hibernation=0
if hib_cycle "$NAME"; then
	fail "a loader booted with xen_hibernation=0 restored the image"
fi
[ "$HIB_FAIL" = no-resume ] || fail "hibernation and restore with a loader booted with xen_hibernation=0 failed: $HIB_FAIL"
log=$(dom_log "$NAME" | tr -d '\r')
why=$(grep -a -o 'resume from hibernation refused: .*' <<< "$log" | tail -n 1)
[ "$why" = "resume from hibernation refused: needs the xen_hibernation boot option" ] ||
	fail "the loader booted with xen_hibernation=0 did not say why it refused the image: '$why'"
! grep -a -q -E 'PM: (Image loading|Loading image data|hibernation: Read [0-9]+ kbytes)' <<< "$log" ||
	fail "the loader booted with xen_hibernation=0 read the image before refusing it"
data_intact "$NAME" "the image refused by a loader without xen_hibernation"
lab_log "3: loader with xen_hibernation=0: '$why', fresh boot as domid $DOM_ID, data verified"
dom_destroy "$NAME"

# 4. No xen_hibernation: vcpu_info stays in the per-cpu areas (the boot
# does not print where the slots are), and the guest does not offer to
# hibernate: user space (systemd's CanHibernate) reads /sys/power/state.
DOM_CMDLINE=${DOM_CMDLINE/xen_hibernation/} dom_create "$NAME" 2 || fail "$NAME did not boot without xen_hibernation"
log=$(dom_log "$NAME")
grep -a -q 'vcpu_info of vCPUs' <<< "$log" && fail "vcpu_info moved without xen_hibernation"
offered=$(dom_run "$NAME" 'cat /sys/power/state /sys/power/disk' 30)
grep -qw disk <<< "$offered" && fail "a guest booted without xen_hibernation offers hibernation: /sys/power/state and disk are '${offered//$'\n'/; }'"
grep -a -q 'xen:hibernation: not offered: needs the xen_hibernation boot option' <<< "$log" ||
	fail "the guest's boot does not say why it does not offer hibernation"
fio_write "$NAME" 32M >/dev/null || fail "fio write failed"
files 4
hib_must_abort "$NAME" "a guest booted without xen_hibernation"
data_intact "$NAME" "the refused hibernation"
lab_log "4: no xen_hibernation: state '${offered//$'\n'/; }', hibernation refused ($HIB_ABORT_OUT), guest running, data verified"
dom_destroy "$NAME"
