#!/usr/bin/env bash
# selftest-rig-faults: the library tells the rig's triple faults from the
# others (lab/lib/faults.sh).  Xen's dumps of three faults are fed to it: a
# saved RIP inside Xen (a dump the lab recorded), a guest RIP right after
# the vmmcall of xen_hypercall_amd, and a guest RIP right after an
# instruction Xen does not intercept; the first two must be the rig's and
# the third must not.  The guest RIPs are taken from the guest kernel's
# own System.map and vmlinux, once as booted and once moved by KASLR, and
# once from a copy elsewhere (how another guest's kernel is named).  A
# guest's oops is read back as what, where, the code byte before RIP and
# the frame's flags; a double fault with flags no CPU writes is the rig's.
# A fault with Xen's saved state of the domain beside it (xen-hvmctx) is the
# rig's when Xen was delivering an event with the guest's own descriptor
# tables loaded whole (the IDT of the CPU entry area, a GDT there) and
# paging on, and not with any of those missing or elsewhere, nor in the
# restore code on temporary page tables or at an unnamed kernel address.
. "$(dirname "$0")/../lib/lab.sh"
lab_prepare >/dev/null 2>&1 || fail "cannot stage the guest kernel"
map=$LAB_BUILD/images/System.map

# dump RIP: what Xen prints for a triple fault of d7v0 at RIP.
dump() {
	printf '(XEN) d7v0 Triple fault - invoking HVM shutdown action 1\n'
	printf '(XEN) *** Dumping Dom7 vcpu#0 state: ***\n'
	printf '(XEN) RIP:    %s:[<%s>]\n' "$1" "$2"
	printf '(XEN) RFLAGS: 0000000000000246   CONTEXT: hvm guest (d7v0)\n'
}
# expect WHAT SIGNATURE RIGS(yes|no) DUMP-ARGS [TEXT]
expect() {
	local what=$1 want=$2 rigs=$3 cs=$4 rip=$5 text=${6:-} got
	got=$(dump "$cs" "$rip" | rig_fault_lines "" "$text" | awk '{ print $2 }')
	[ "$got" = "$want" ] || fail "$what: signature '$got', want '$want'"
	if rig_fault_is_rigs "$got"; then
		[ "$rigs" = yes ] || fail "$what: '$got' taken for the rig's"
	else
		[ "$rigs" = no ] || fail "$what: '$got' not taken for the rig's"
	fi
	lab_log "$what: $got (rig's: $rigs)"
}
# after FUNCTION MNEMONIC: the address right after the first instruction
# of FUNCTION that is MNEMONIC (from the guest's vmlinux).
after() {
	local a
	a=$(awk -v f="$1" '$3 == f { print $1; exit }' "$map")
	[ -n "$a" ] || fail "no $1 in System.map"
	objdump -d --start-address="0x$a" --stop-address="$(printf '0x%x' $((0x$a + 64)))" "$LAB_BUILD/images/vmlinux" |
		awk -v m="$2" -F'\t' '$3 ~ "^" m { split($1, a, ":"); n = split($2, b, " "); print a[1], n; exit }' |
		{ read -r addr len; [ -n "$addr" ] && printf '%x\n' $((0x${addr// /} + len)); }
}

expect "RIP inside Xen" "xen:ffff82d0402044a5" yes e008 ffff82d0402044a5
rip=$(after xen_hypercall_amd vmmcall) || true
[ -n "$rip" ] || fail "no vmmcall in xen_hypercall_amd"
expect "guest after vmmcall" "guest:xen_hypercall_amd:after-vmmcall" yes 0010 "$rip"
text=$(awk '$3 == "_text" { print $1; exit }' "$map")
slid=$(printf '%x' $((0x$rip + 0x1a000000)))
expect "guest after vmmcall, KASLR" "guest:xen_hypercall_amd:after-vmmcall" yes 0010 "$slid" "$(printf '%x' $((0x$text + 0x1a000000)))"
rip=$(after xen_hypercall_amd ret) || true
[ -n "$rip" ] || fail "no ret in xen_hypercall_amd"
expect "guest after ret" "guest:xen_hypercall_amd:after-ret" no 0010 "$rip"

# Another kernel's symbols (here the same code under another name): its
# System.map names the function, the vmlinux beside it the instruction.
other=$LAB_SCEN_LOG/other-kernel
mkdir -p "$other" && sed 's/ xen_hypercall_amd$/ other_hypercall_amd/' "$map" > "$other/System.map" &&
	ln -sf "$LAB_BUILD/images/vmlinux" "$other/vmlinux"
rip=$(after xen_hypercall_amd vmmcall)
got=$(dump 0010 "$rip" | rig_fault_lines "$other/System.map" | awk '{ print $2 }')
[ "$got" = guest:other_hypercall_amd:after-vmmcall ] || fail "another kernel's symbols: '$got'"
rm "$other/vmlinux"
got=$(dump 0010 "$rip" | rig_fault_lines "$other/System.map" | awk '{ print $2 }')
[ "$got" = 'guest:other_hypercall_amd:after-?' ] || fail "no vmlinux beside the map: '$got'"
lab_log "another kernel's System.map and vmlinux: named; without its vmlinux: after-?"

# An int3 oops as a 6.12 kernel prints it (two CPUs, console timestamps),
# and a BUG with no Code: line.
oopses=$(cat <<'EOT'
[    5.170169] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    5.170567] CPU: 1 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.117+xh-cloud-amd64 #1
[    5.175785] RIP: 0010:sched_clock_cpu+0x9/0x190
[    5.176155] Code: 00 e9 b8 fe ff ff 66 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 f3 0f 1e fa 41 54 55 53 66 <90> e8 01 19 f1 ff 48 03 05 92 b9 72 01 48 89 c2 5b 48 89 d0 5d 41
[    5.176256] RSP: 0018:ffffc9000001bba0 EFLAGS: 00000046
[    5.179884] Oops: int3: 0000 [#2] PREEMPT SMP NOPTI
[    5.180117] RIP: 0010:sched_clock_cpu+0x9/0x190
[    5.180148] Code: 00 e9 b8 fe ff ff 66 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 f3 0f 1e fa 41 54 55 53 cc <1b> e8 01 19 f1 ff 48 03 05 92 b9 72 01 48 89 c2 5b 48 89 d0 5d 41
[    7.000000] BUG: scheduling while atomic: swapper/0/0/0x00000002
[    7.100000] Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#3] PREEMPT SMP NOPTI
[    7.100001] RIP: 0010:list_del+0x4/0x40
[    7.100002] Code: 00 00 0f 1f 44 00 00 48 <8b> 07 48 8b 57 08
EOT
)
got=$(guest_oops_lines <<< "$oopses")
want='int3 sched_clock_cpu+0x9/0x190 66 00000046 -
int3 sched_clock_cpu+0x9/0x190 cc ? -
scheduling-while-atomic ? ? ? -
general-protection-fault list_del+0x4/0x40 48 ? -'
[ "$got" = "$want" ] || fail "oops lines: '$got'"
lab_log "oopses read back: $(paste -s -d';' <<< "$got")"
# The rig's: an int3 whose byte in memory is no longer cc (the first oops
# alone); not with the int3 still there, nor with any other oops beside it,
# nor without an oops.
got=$(head -n 4 <<< "$oopses" | rig_oopses) || fail "an int3 over a patched byte not taken for the rig's"
[ "$got" = "oops:int3:sched_clock_cpu+0x9/0x190:66" ] || fail "rig oops signature '$got'"
! sed -n 6,8p <<< "$oopses" | rig_oopses >/dev/null || fail "an int3 with its cc in memory taken for the rig's"
! rig_oopses <<< "$oopses" >/dev/null || fail "a general protection fault taken for the rig's"
! echo 'Linux version 6.12' | rig_oopses >/dev/null || fail "no oops taken for the rig's"
lab_log "rig oops: $got; not an int3 over its cc, a GP fault or no oops"
# A double fault whose frame holds flags no CPU writes (the low half of RAX,
# as a restored Debian guest printed it on 2026-12-05) is the rig's; the
# same fault with flags a CPU writes is not.
df=$(cat <<'EOT'
[  174.189550] traps: PANIC: double fault, error_code: 0x0
[  174.189550] Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI
[  174.189550] CPU: 0 UID: 0 PID: 787 Comm: fio Not tainted 6.12.117+xh-cloud-amd64 #1~deb12u1+xh
[  174.189550] RIP: 0010:kmem_cache_alloc_noprof+0xc3/0x2f0
[  174.190086] Code: 48 8d 8a 00 20 00 00 65 48 0f c7 0e 75 a8 <41> 8b 44 24 28 0f 0d 0c 03 48 89 3c 24
[  174.190227] RSP: 0018:ffffc90000d1b850 EFLAGS: 055673c2
[  174.190538] RAX: ffff8880055673c0 RBX: ffff888005567780 RCX: 00000000047ba000
[  174.194052] RIP: 0010:kmem_cache_alloc_noprof+0xc3/0x2f0
[  174.194073] RSP: 0018:ffffc90000d1b850 EFLAGS: 055673c2
[  174.194348] Kernel panic - not syncing: Fatal exception in interrupt
EOT
)
got=$(rig_oopses <<< "$df") || fail "a double fault with flags no CPU writes not taken for the rig's"
[ "$got" = "oops:double-fault:kmem_cache_alloc_noprof+0xc3/0x2f0:eflags-055673c2" ] || fail "rig oops signature '$got'"
! sed 's/EFLAGS: 055673c2/EFLAGS: 00010082/' <<< "$df" | rig_oopses >/dev/null ||
	fail "a double fault with flags a CPU writes taken for the rig's"
! { echo "$df"; sed -n 10,12p <<< "$oopses"; } | rig_oopses >/dev/null ||
	fail "a GP fault beside a double fault of the rig's taken for the rig's"
lab_log "rig oops: $got; not with flags a CPU writes, nor beside a GP fault"
# A page fault is announced by a "BUG:" line and "#PF:" lines before its
# "Oops:": one oops, judged by its frame.  A NULL maple tree in
# mtree_load() with flags no CPU writes (a Debian guest under fio at its
# first boot, CI of 2026-12-06) is the rig's; with flags a CPU writes not.
pf=$(cat <<'EOT'
[   66.120201] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   66.120480] #PF: supervisor read access in kernel mode
[   66.120612] #PF: error_code(0x0000) - not-present page
[   66.120733] PGD 0 P4D 0
[   66.120801] Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
[   66.120950] CPU: 0 UID: 0 PID: 912 Comm: fio Not tainted 6.12.117+xh-cloud-amd64 #1
[   66.121203] RIP: 0010:mtree_load+0x8d/0x2a0
[   66.121330] Code: 44 24 30 ff ff ff ff 48 8b 44 24 08 c6 44 24 44 00 <48> 8b 40 08 48 89 c2 83 e2 03
[   66.121590] RSP: 0018:ffffc90000003e30 EFLAGS: 03f41446
EOT
)
got=$(guest_oops_lines <<< "$pf")
[ "$got" = 'kernel-NULL-pointer-dereference mtree_load+0x8d/0x2a0 00 03f41446 -' ] || fail "page fault oops lines: '$got'"
got=$(rig_oopses <<< "$pf") || fail "a page fault with flags no CPU writes not taken for the rig's"
[ "$got" = "oops:kernel-NULL-pointer-dereference:mtree_load+0x8d/0x2a0:eflags-03f41446" ] || fail "rig oops signature '$got'"
! sed 's/EFLAGS: 03f41446/EFLAGS: 00010046/' <<< "$pf" | rig_oopses >/dev/null ||
	fail "a page fault with flags a CPU writes taken for the rig's"
lab_log "rig oops: $got (BUG and Oops lines one oops); not with flags a CPU writes"
# In a restored kernel only such a frame is the rig's, not an int3 over a
# patched byte (a restore could run one through its own bug).
rig_oopses_any_kernel <<< "$got" || fail "a frame no CPU writes not taken for the rig's in a restored kernel"
! rig_oopses_any_kernel <<< "oops:int3:sched_clock_cpu+0x9/0x190:66 $got" ||
	fail "an int3 over a patched byte taken for the rig's in a restored kernel"
lab_log "in a restored kernel: the frame no CPU writes is the rig's, the int3 is not"
# The Xen upcall delivered twice (Debian's own kernel, no hibernation, fio,
# 2026-12-05), trimmed to the oops's first frames and its last ones: taken
# at user RIP 0x7fe655f6a893, then again at the first instruction of its
# entry with IF clear, from kernel mode, so no swapgs: the entry faults on
# the user's GS base until the entry stack's guard page.  The rig's in any
# kernel; not with IF set in that frame, nor when what interrupted the
# entry there was an exception.
twice=$(cat <<'EOT'
[   69.448443] BUG: ENTRY_TRAMPOLINE stack guard page was hit at 000000002f7bd516 (stack is 00000000805e5bcb..00000000092d37b7)
[   69.450559] Oops: stack guard page: 0000 [#1] PREEMPT SMP NOPTI
[   69.451029] CPU: 0 UID: 0 PID: 431 Comm: mv Not tainted 6.12.117+deb12-cloud-amd64 #1  Debian 6.12.117-1~deb12u1
[   69.451298] RIP: 0010:error_entry+0x10/0x170
[   69.451867] Code: 85 db 0f 85 73 fd ff ff 0f 01 f8 e9 6b fd ff ff 66 2e 0f 1f 84 00 00 00 00 00 56 48 8b 74 24 08 48 89 7c 24 08 52 51 50 41 50 <41> 51 41 52 41 53 53 55 41 54 41 55 41 56 41 57 56 31 f6 31 d2 31
[   69.452005] RSP: 0000:fffffe0000002000 EFLAGS: 00000087
[   69.452748] FS:  0000000000000000(0000) GS:ffff888017600000(0000) knlGS:0000000000000000
[   69.453018] Call Trace:
[   69.453455]  <ENTRY_TRAMPOLINE>
[   69.453492] RIP: 0010:exc_page_fault+0x19/0x190
[   69.453524] Code: 00 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 66 0f 1f 00 41 55 41 54 49 89 f4 55 53 48 89 fb 0f 20 d0 0f 1f 00 48 89 c5 <65> 48 8b 05 9f 0c 3a 7e 48 8b 80 00 09 00 00 0f 0d 88 a8 00 00 00
[   69.453536] RSP: 0000:fffffe0000002060 EFLAGS: 00000087
[   69.453852]  ? early_xen_iret_patch+0x5/0x5
[   69.453959]  asm_exc_page_fault+0x26/0x30
[   69.455135] RIP: 0010:irqentry_enter+0xd/0x50
[   69.455150] RSP: 0000:fffffe0000002f08 EFLAGS: 00000046
[   69.455201]  sysvec_xen_hvm_callback+0xe/0x90
[   69.455213]  asm_sysvec_xen_hvm_callback+0x1a/0x20
[   69.455221] RIP: 0010:asm_sysvec_xen_hvm_callback+0x0/0x20
[   69.455235] RSP: 0000:fffffe0000002fd8 EFLAGS: 00000046
[   69.455267] RIP: 0033:0x7fe655f6a893
[   69.455418] RSP: 002b:00007ffc54bb6cd0 EFLAGS: 00000246
[   69.455433]  </ENTRY_TRAMPOLINE>
[   69.455880] ---[ end trace 0000000000000000 ]---
[   69.456263] Kernel panic - not syncing: Fatal exception in interrupt
EOT
)
got=$(guest_oops_lines <<< "$twice")
[ "$got" = 'stack-guard-page error_entry+0x10/0x170 50 00000087 masked-asm_sysvec_xen_hvm_callback' ] ||
	fail "an interrupt taken twice read back as '$got'"
got=$(rig_oopses <<< "$twice") || fail "an interrupt taken with interrupts off not taken for the rig's"
[ "$got" = 'oops:stack-guard-page:error_entry+0x10/0x170:irq-masked-asm_sysvec_xen_hvm_callback' ] ||
	fail "rig oops signature '$got'"
rig_oopses_any_kernel <<< "$got" || fail "an interrupt no CPU delivers not taken for the rig's in a restored kernel"
! sed '/asm_sysvec_xen_hvm_callback+0x0/{n;s/EFLAGS: 00000046/EFLAGS: 00000246/}' <<< "$twice" | rig_oopses >/dev/null ||
	fail "an interrupt taken with interrupts on taken for the rig's"
! sed 's/ asm_sysvec_xen_hvm_callback+0x1a\/0x20/ asm_exc_page_fault+0x26\/0x30/' <<< "$twice" | rig_oopses >/dev/null ||
	fail "an exception at an interrupt entry's first instruction taken for the rig's"
# What interrupted the entry is the frame right before its RIP line: an
# interrupt entry further up, with an exception's unreliable frame between,
# is not it.
stale=$(sed '/ asm_sysvec_xen_hvm_callback+0x1a\/0x20/a\
[   69.455214] RIP: 0010:sysvec_xen_hvm_callback+0x4/0x90\
[   69.455215] RSP: 0000:fffffe0000002f60 EFLAGS: 00000246\
[   69.455216]  ? asm_exc_page_fault+0x26/0x30' <<< "$twice")
[ "$(guest_oops_lines <<< "$stale" | awk '{ print $5 }')" = - ] ||
	fail "an interrupt entry further up the trace taken for what interrupted the entry"
lab_log "rig oops: $got, in any kernel; not with IF set, nor for an exception there, nor a stale frame"

# A scenario's log directory, as run-tests.sh judges a failed run: rerun only
# when its faults are more than the ones absorbed inside that run, and every
# one of them is the rig's.
attempt=$LAB_SCEN_LOG/attempt
mkdir -p "$attempt" && echo "12:00:00 x: domid 7, first console output" > "$attempt/steps.log"
dump e008 ffff82d0402044a5 > "$attempt/serial.log"
got=$(rig_fault_only "$attempt" 0) || fail "one rig fault, none absorbed: no rerun"
[ "$got" = "d7v0 xen:ffff82d0402044a5 e008:ffff82d0402044a5" ] || fail "rerun reason: '$got'"
! rig_fault_only "$attempt" 1 >/dev/null || fail "a fault a cycle repeat already absorbed asked for a rerun"
# Not after a hang, a third failure, or a run whose cycles used up their
# repeats; and not beside a fault that is not the rig's.
got=$(scenario_rerun_faults "$attempt" "" 1 1) || fail "a failed run with one rig fault: no rerun"
! scenario_rerun_faults "$attempt" "" 124 1 >/dev/null || fail "a timed-out run runs again"
! scenario_rerun_faults "$attempt" "" 1 3 >/dev/null || fail "a third rerun"
printf 'repeat\nrepeat\nrepeat\n' > "$attempt/rig-repeats"
! scenario_rerun_faults "$attempt" "" 1 1 >/dev/null || fail "a rerun after the cycles used up their repeats"
rm "$attempt/rig-repeats"
rip=$(after xen_hypercall_amd ret)
dump 0010 "$rip" | sed 's/d7v0/d8v1/; s/Dom7/Dom8/' >> "$attempt/serial.log"
other=$(rig_fault_lines "" < "$attempt/serial.log" | sed -n 2p)
[ "$other" = "d8v1 guest:xen_hypercall_amd:after-ret 0010:$rip" ] || fail "the second fault read as '$other'"
! rig_fault_only "$attempt" 0 >/dev/null || fail "a rerun although one fault is not the rig's"
lab_log "rerun after rig faults only: $got; not after an absorbed one, a timeout, a third time, used-up repeats or beside another fault"
# A failed run whose guest oopsed with a frame no CPU writes runs again,
# unless a repeat already paid for that oops, or another oops is beside it;
# an int3 over a patched byte only when a retry at boot paid for it.
oo=$LAB_SCEN_LOG/oops
rm -rf "$oo" && mkdir -p "$oo" && echo "$df" > "$oo/guest-x.log" || fail "no log directory"
got=$(scenario_rerun_faults "$oo" "" 1 1) || fail "a failed run with a guest's oops of the rig's: no rerun"
[ "$got" = "oops:double-fault:kmem_cache_alloc_noprof+0xc3/0x2f0:eflags-055673c2" ] || fail "oops rerun reason: '$got'"
! scenario_rerun_faults "$oo" "12:00:00 x y: cycle repeated after oops-loading ($got)" 1 1 >/dev/null ||
	fail "an oops a cycle repeat already absorbed asked for a rerun"
head -n 4 <<< "$oopses" > "$oo/guest-y.log"
! scenario_rerun_faults "$oo" "" 1 1 >/dev/null || fail "a rerun for an int3 over a patched byte no retry paid for"
int3="oops:int3:sched_clock_cpu+0x9/0x190:66"
got=$(scenario_rerun_faults "$oo" "12:00:00 x y: loader oops before reading the image ($int3)" 1 1) ||
	fail "no rerun for a frame no CPU writes beside an int3 a retry paid for"
[ "$got" = "oops:double-fault:kmem_cache_alloc_noprof+0xc3/0x2f0:eflags-055673c2" ] || fail "oops rerun reason: '$got'"
sed -n 10,12p <<< "$oopses" > "$oo/guest-y.log"
! scenario_rerun_faults "$oo" "" 1 1 >/dev/null || fail "a rerun beside a GP fault"
dump e008 ffff82d0402044a5 > "$oo/serial.log" && cp "$attempt/steps.log" "$oo/"
! scenario_rerun_faults "$oo" "" 1 1 >/dev/null || fail "a rerun for a triple fault of the rig's beside a GP fault"
lab_log "rerun after a guest's oops of the rig's: $got; not once absorbed, nor for an int3 no retry paid for, nor beside a GP fault"
# So does one whose guest took the upcall twice.
rm -rf "$oo" && mkdir -p "$oo" && echo "$twice" > "$oo/guest-x.log" || fail "no log directory"
got=$(scenario_rerun_faults "$oo" "" 1 1) || fail "a failed run with an interrupt taken twice: no rerun"
[ "$got" = "oops:stack-guard-page:error_entry+0x10/0x170:irq-masked-asm_sysvec_xen_hvm_callback" ] ||
	fail "oops rerun reason: '$got'"
lab_log "rerun after an interrupt taken twice: $got"

# Xen's saved state of a faulted domain (xen-hvmctx, as dom_destroy keeps
# it), cut to the fields the library reads.
# hvmctx VCPU EVENT IDTR_BASE IDTR_LIMIT CR0 [GDTR_BASE [TR_LIMIT]]: a
# record of vCPU VCPU, and of the other vCPU with nothing injected (as
# xen-hvmctx prints them: a limit of 0 is "0000").
hvmctx() {
	local v
	echo 'HVM save record for domain 7'
	echo 'Entry 0: type 1 instance 0, length 24'
	for v in 0 1; do
		echo "Entry $((v + 1)): type 2 instance $v, length 1032"
		if [ "$v" = "$1" ]; then
			printf '            cr0 %s     cr2 0x0000000000000000\n' "$5"
			printf '             tr 0x0040 (0xfffffe0000003000 +     %s /  0x008b)\n' "${7:-0x0067}"
			printf '           ldtr   0000 (          00000000 +       0000 /    0000)\n'
			printf '           idtr        (%s +     %s)\n' "$3" "$4"
			printf '           gdtr        (%s +     0x007f)\n' "${6:-0xfffffe0000001000}"
			printf '          event %s error 0x00000000\n' "$2"
		else
			printf '            cr0 0x0000000080050033     cr2 0x0000000000000000\n'
			printf '             tr 0x0040 (0xfffffe000003e000 +     0x0067 /  0x008b)\n'
			printf '           idtr        (0xfffffe0000000000 +     0x0fff)\n'
			printf '           gdtr        (0xfffffe000003c000 +     0x007f)\n'
			printf '          event 0x00000000 error 0x00000000\n'
		fi
	done
	echo 'Entry 3: type 3 instance 0, length 8'
}
# judged DIR: the signature rig_fault_only gives DIR's one fault, or "not
# the rig's".
judged() { rig_fault_only "$1" 0 | awk '{ print $2 }' | grep . || echo "not the rig's"; }
# expect_inject WHAT WANT HVMCTX-ARGS: d7v0 faulted after ret (not the
# rig's by its RIP); with that saved state it is judged WANT.
inj=$LAB_SCEN_LOG/inject
expect_inject() {
	local what=$1 want=$2 got
	shift 2
	rm -rf "$inj" && mkdir -p "$inj" && cp "$attempt/steps.log" "$inj/" || fail "no log directory"
	dump 0010 "$(after xen_hypercall_amd ret)" > "$inj/serial.log"
	[ $# = 0 ] || hvmctx "$@" > "$inj/hvmctx-7.txt"
	got=$(judged "$inj")
	[ "$got" = "$want" ] || fail "$what: '$got', want '$want'"
	lab_log "$what: $got"
}
ok_sig=guest:xen_hypercall_amd:after-ret+inject:0xf3
expect_inject "upcall injected through the guest's IDT" "$ok_sig" 0 0x800000f3 0xfffffe0000000000 0x0fff 0x0000000080050033
expect_inject "page fault injected through the guest's IDT" "${ok_sig%f3}0e" 0 0x80000b0e 0xfffffe0000000000 0x0fff 0x0000000080050033
# Debian's kernels have CONFIG_X86_IOPL_IOPERM: their TSS carries the I/O
# bitmap (limit 0x4087).
expect_inject "page fault injected, the TSS with the I/O bitmap" "${ok_sig%f3}0e" 0 0x80000b0e 0xfffffe0000000000 0x0fff 0x0000000080050033 0xfffffe0000001000 0x4087
expect_inject "a TSS of another limit" "not the rig's" 0 0x80000b0e 0xfffffe0000000000 0x0fff 0x0000000080050033 0xfffffe0000001000 0x0fff
expect_inject "no saved state" "not the rig's"
expect_inject "nothing injected" "not the rig's" 0 0x00000000 0xfffffe0000000000 0x0fff 0x0000000080050033
expect_inject "an IDT of limit 0" "not the rig's" 0 0x800000f3 0xfffffe0000000000 0000 0x0000000080050033
expect_inject "Xen's IDT" "not the rig's" 0 0x800000f3 0xffff82d040577000 0x0fff 0x0000000080050033
expect_inject "an IDT outside the CPU entry area" "not the rig's" 0 0x800000f3 0xffff888004a1c000 0x0fff 0x0000000080050033
expect_inject "a GDT outside the CPU entry area" "not the rig's" 0 0x800000f3 0xfffffe0000000000 0x0fff 0x0000000080050033 0xffff888004a1c000
expect_inject "paging off" "not the rig's" 0 0x800000f3 0xfffffe0000000000 0x0fff 0x0000000000050033
expect_inject "the event on the other vCPU" "not the rig's" 1 0x800000f3 0xfffffe0000000000 0x0fff 0x0000000080050033
# Where the guest's own tables are not in force or not known, an injection
# proves nothing: in the restore code on temporary page tables, and at a
# kernel address outside the kernel's text; in user space it does.
expect_code() {
	local what=$1 want=$2 cs=$3 rip=$4 got
	dump "$cs" "$rip" > "$inj/serial.log"
	hvmctx 0 0x800000f3 0xfffffe0000000000 0x0fff 0x0000000080050033 > "$inj/hvmctx-7.txt"
	got=$(judged "$inj")
	[ "$got" = "$want" ] || fail "$what: '$got', want '$want'"
	lab_log "$what: $got"
}
rip=$(after restore_image jmp) || true
[ -n "$rip" ] || fail "no jmp in restore_image"
expect_code "in restore_image, upcall injected" "not the rig's" 0010 "$rip"
expect_code "kernel code outside the text, upcall injected" "not the rig's" 0010 ffff888000100000
expect_code "user space, upcall injected" "guest-user+inject:0xf3" 0033 00007f2fe2c24001
