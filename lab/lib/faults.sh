# Triple faults of domUs: what Xen printed, the fault's signature, and
# whether that signature is the rig's.  Source it; do not run it.
# shellcheck shell=bash
#
# Under QEMU's TCG emulation of nested SVM, a domU sometimes triple-faults
# with no bug of its own (lab/README.md, "Rig faults").  Xen then prints
#   (XEN) d5v0 Triple fault - invoking HVM shutdown action 1
# and a register dump whose "RIP:" line says where the vCPU was.  The
# signature of a fault is taken from that line:
#   xen:<symbol>     the saved guest RIP is an address of Xen itself (code
#                    selector e008): the guest cannot run there, the state
#                    QEMU saved at the #VMEXIT was the host's
#   guest:<symbol>:after-<insn>
#                    a guest kernel address, named from the guest's
#                    System.map and the guest's _text, and the instruction
#                    that ends there, read from its vmlinux: the vCPU was
#                    about to go on after <insn>.  When that instruction is
#                    one Xen intercepts (vmmcall, wrmsr, rdtsc, hlt...), the
#                    fault came as QEMU entered the guest again after Xen
#                    handled the exit, the same event as xen: seen from the
#                    other side of the VMRUN.  (guest:? when the address
#                    cannot be named.)
#   guest-user       a user-space address (CS of privilege level 3)
# When Xen's saved state of the faulted vCPU is at hand (hvmctx-<domid>.txt
# in the scenario's logs, kept by lab/lib/domu.sh) and says Xen was
# delivering an event with the guest's own descriptor tables loaded whole
# and paging on, "+inject:<vector>" follows the signature (hvmctx_inject):
# a real CPU fails such a delivery three times over only through a broken
# gate or stack, which the lab's control runs never had.
# A signature is the rig's when it matches one of RIG_FAULT_SIGNATURES, each
# seen in a control run (lab/rig-health.sh: no hibernation, none of the
# series' code paths) and listed in lab/README.md with that evidence.  Any
# other fault is a real failure.
RIG_FAULT_SIGNATURES=${RIG_FAULT_SIGNATURES:-'^xen: ^guest:[^:]+:after-(vmmcall|wrmsr|rdmsr|rdtscp?|cpuid|hlt|in|out|inb|outb|inw|outw|inl|outl)$ \+inject:0x[0-9a-f]{2}$'}

# rig_fault_lines [SYSTEM_MAP [TEXT]] < serial text: one line per triple
# fault, "d<dom>v<vcpu> <signature> <cs>:<rip>".  SYSTEM_MAP is the guest
# kernel's (default: the lab guest's), its vmlinux beside it; TEXT is the
# guest kernel's _text as the guest read it (KASLR moves it; the @@READY
# line says where), to name guest addresses from SYSTEM_MAP; "none" when it
# is not known, which leaves them unnamed (guest:?).
rig_fault_lines() {
	local map=${1:-$LAB_BUILD/images/System.map} d sig rip at from
	_rig_fault_dumps "$map" "${2:-}" | while read -r d sig rip at from; do
		[ -n "$at" ] && sig="$sig:after-$(_rig_insn_before "$from" "$at" "${map%/*}/vmlinux")"
		printf '%s %s %s\n' "$d" "$sig" "$rip"
	done
}

# _rig_insn_before FROM AT VMLINUX: the mnemonic of the instruction of the
# guest's VMLINUX that ends at AT, disassembling from FROM (its function's
# start); ? without a vmlinux.
_rig_insn_before() {
	objdump -d --start-address="0x$1" --stop-address="0x$2" "$3" 2>/dev/null |
		awk -v at="$2" '
		function hex(h,    i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
		/^ *ffffffff[0-9a-f]+:\t/ {
			split($0, f, "\t"); a = f[1]; sub(/^ */, "", a); sub(/:$/, "", a)
			n = split(f[2], b, " ")
			if (f[3] == "") { len += n; next }	# bytes continued on a line of their own
			addr = substr(a, 9); len = n; m = f[3]; sub(/ .*/, "", m)
		}
		END { print (m ~ /^[a-z][a-z0-9]*$/ && hex(addr) + len == hex(substr(at, 9))) ? m : "?" }'
}

# _rig_fault_dumps [SYSTEM_MAP [TEXT]] < serial text: what rig_fault_lines
# prints, and for a guest kernel RIP, the unslid address and the start of
# its function.
_rig_fault_dumps() {
	local map=${1:-$LAB_BUILD/images/System.map}
	awk -v map="$map" -v text="${2:-}" '
	# Kernel text lies in the top 2 GiB: the low 32 bits name an address.
	function lo32(h,    i, v) {
		h = tolower(h); v = 0
		for (i = length(h) - 7; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return v
	}
	function sym(a,    lo, hi, mid, v) {
		v = lo32(a) - slide
		if (n == 0 || v < addr[1] || (etext && v >= etext)) return "?"
		lo = 1; hi = n
		while (lo < hi) { mid = int((lo + hi + 1) / 2); if (addr[mid] <= v) lo = mid; else hi = mid - 1 }
		symat = sprintf("ffffffff%08x", v); symfrom = sprintf("ffffffff%08x", addr[lo])
		return name[lo]
	}
	BEGIN {
		n = 0; slide = 0
		while ((getline l < map) > 0) {
			split(l, f, " ")
			if (f[1] !~ /^ffffffff/) continue
			if (f[3] == "_text" && text != "") slide = lo32(text) - lo32(f[1])
			if (f[3] == "_etext") etext = lo32(f[1])
			if (f[2] ~ /^[tTwW]$/) { n++; addr[n] = lo32(f[1]); name[n] = f[3] }
		}
		if (text == "none") n = 0	# where the kernel was placed is not known
	}
	/Triple fault - invoking HVM shutdown/ {
		if (pending != "") print pending, "unknown -"
		match($0, /d[0-9]+v[0-9]+/); pending = substr($0, RSTART, RLENGTH); left = 12; next
	}
	pending != "" && /RIP: +[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:\[<[0-9a-f]+>\]/ {
		match($0, /[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:\[<[0-9a-f]+>\]/); r = substr($0, RSTART, RLENGTH)
		cs = substr(r, 1, 4); rip = substr(r, 8, length(r) - 9)
		if (cs == "e008" || rip ~ /^ffff82d0/) {
			s = $0; sub(/.*\] */, "", s); sub(/[ \t\r].*/, "", s); sub(/\+.*/, "", s)
			sig = "xen:" (s == "" ? rip : s)
		} else if (rip ~ /^ffffffff/) {
			symat = ""; sig = "guest:" sym(rip)
			if (sig != "guest:?") { print pending, sig, cs ":" rip, symat, symfrom; pending = ""; next }
		} else
			sig = (cs ~ /[37bf]$/) ? "guest-user" : "guest:?"	# RPL 3: user space
		print pending, sig, cs ":" rip; pending = ""; next
	}
	pending != "" && --left <= 0 { print pending, "unknown -"; pending = "" }
	END { if (pending != "") print pending, "unknown -" }
	'
}

# rig_fault_is_rigs SIGNATURE: the signature is one of the rig's.
rig_fault_is_rigs() {
	local re
	local -a res
	read -r -a res <<< "$RIG_FAULT_SIGNATURES"
	for re in "${res[@]}"; do
		[[ $1 =~ $re ]] && return 0
	done
	return 1
}

# hvmctx_inject FILE VCPU: FILE (xen-hvmctx's output for a domain a triple
# fault shut down) says that Xen was delivering an event to VCPU (the
# "event" field's valid bit) while the vCPU had a 64-bit Linux kernel's
# own descriptor tables loaded, whole: the read-only IDT of the CPU entry
# area (0xfffffe0000000000, limit 0xfff: 256 gates), a GDT and a TSS in
# that area (limits 0x7f and 0x67, or 0x4087 for a TSS with the I/O
# bitmap of CONFIG_X86_IOPL_IOPERM, as Debian's kernels have it), and
# paging on (CR0.PG); prints
# "inject:<vector>".  A real CPU delivers that event, or the #DF its
# delivery raises (on an IST stack of its own), through those tables; it
# can fail three times over only on a gate, a GDT entry or a stack mapping
# that is broken, which the record cannot show: the control runs without
# hibernation (lab/rig-health.sh) met faults in this state, with the
# guest's tables intact (lab/README.md, "Rig faults").  Returns 1
# otherwise, and when FILE is missing.
hvmctx_inject() {
	[ -f "$1" ] || return 1
	awk -v v="$2" '
	function hex(h,    i, x) {
		h = tolower(h); sub(/^0x/, "", h); h = substr(h, length(h) > 8 ? length(h) - 7 : 1); x = 0
		for (i = 1; i <= length(h); i++) x = x * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return x
	}
	# "idtr        (0xfffffe0000000000 +     0x0fff)", "tr 0x0040 (base +  limit /  attr)"
	function table(    b, l) { b = $0; sub(/.*\(/, "", b); l = b; sub(/ .*/, "", b); sub(/^[^+]*\+ */, "", l); sub(/[ )].*/, "", l); return b " " hex(l) }
	/^Entry [0-9]+: / { s = $6; sub(/,/, "", s); cpu = ($4 == 2 && s == v); next }
	cpu && $1 == "cr0" { cr0 = hex($2) }
	cpu && $1 == "idtr" { idt = table() }
	cpu && $1 == "gdtr" { gdt = table() }
	cpu && $1 == "tr" { tss = table() }
	cpu && $1 == "event" { ev = hex($2); seen = 1 }
	END {
		if (!seen || ev < 2147483648 || cr0 < 2147483648) exit 1
		if (idt != "0xfffffe0000000000 4095") exit 1
		if (gdt !~ /^0xfffffe[0-9a-f]+ 127$/ || tss !~ /^0xfffffe[0-9a-f]+ (103|16519)$/) exit 1
		printf "inject:0x%02x\n", ev % 256
	}' "$1"
}

# rig_fault_with_inject DIR < rig_fault_lines output: the same lines, each
# signature that is not the rig's followed by "+inject:<vector>" when the
# faulted domain's state in DIR says so (hvmctx_inject).  Not for a kernel
# address that System.map does not name (guest:?: code outside the kernel's
# text, such as the page the image's restore code is copied to), nor one
# whose instruction it cannot name (after-?: a guess at the kernel's
# placement may be wrong), nor in the code that runs a restore on
# temporary page tables, which need not map the IDT: there a real CPU
# triple-faults too.
rig_fault_with_inject() {
	local d sig rest id inj
	while read -r d sig rest; do
		id=${d#d}
		if ! rig_fault_is_rigs "$sig" && [[ $sig =~ ^(guest:[A-Za-z_]|guest-user) ]] && [[ $sig != *:after-\? ]] &&
			! [[ $sig =~ ^guest:(restore_image|core_restore_code|restore_registers): ]] &&
			inj=$(hvmctx_inject "$1/hvmctx-${id%v*}.txt" "${d#*v}"); then
			sig="$sig+$inj"
		fi
		printf '%s %s %s\n' "$d" "$sig" "$rest"
	done
}

# rig_faults_since OFFSET [DOMID [TEXT [SYSTEM_MAP]]]: the triple faults in
# Xen's serial log after OFFSET (of domain DOMID only, if given), as
# rig_fault_lines prints them, with the scenario's saved domain states
# (rig_fault_with_inject).  Returns 1 when there is none.
rig_faults_since() {
	local lines
	lines=$(tail -c +"$(($1 + 1))" "$LAB_RUN/serial.log" | rig_fault_lines "${4:-}" "${3:-}" | rig_fault_with_inject "$LAB_SCEN_LOG")
	[ -n "${2:-}" ] && lines=$(grep -E "^d$2v[0-9]+ " <<< "$lines")
	[ -n "$lines" ] || return 1
	printf '%s\n' "$lines"
}

# rig_faults_all_rigs OFFSET [DOMID [TEXT [SYSTEM_MAP]]]: there was a triple fault after OFFSET
# and every one has a signature of the rig's.  Prints them.
rig_faults_all_rigs() {
	local lines sig rc=0
	lines=$(rig_faults_since "$@") || return 1
	while read -r _ sig _; do
		rig_fault_is_rigs "$sig" || rc=1
	done <<< "$lines"
	printf '%s\n' "$lines"
	return $rc
}

# guest_oops_lines < console text: one line per oops or BUG a guest kernel
# printed, "<what> <rip> <code> <eflags> <irq>": what the kernel said it
# was ("int3", "general-protection", "BUG"; a "BUG:" line that only
# announces the "Oops:" after it, as "stack guard page was hit" or a page
# fault's "BUG:" and "#PF:" lines do, is that oops), its RIP line's
# symbol+offset, the code byte just before RIP, which for an int3 trap is
# the breakpoint itself (anything but cc there
# means memory no longer held the int3 the CPU ran), the flags of the
# exception frame ("?" for what is missing), and "masked-<entry>" when its
# trace shows an interrupt taken at the first instruction of the interrupt
# entry <entry> with interrupts off in that frame, by the same kind of
# entry ("-" otherwise; see rig_oopses).
guest_oops_lines() {
	awk '
	function flush() {
		if (what) print what, rip, before, flags, (irq == "" ? "-" : irq)
		what = ""; irq = ""; last = ""; pending = ""; pf = 0
	}
	# An IDT entry that only a maskable interrupt reaches.
	function irq_entry(f) { return f ~ /^asm_(sysvec_[a-z0-9_]+|common_interrupt|spurious_interrupt)$/ }
	function if_clear(h,   d) {
		if (h !~ /^[0-9a-f]+$/ || length(h) < 3) return 0
		d = index("0123456789abcdef", substr(h, length(h) - 2, 1)) - 1
		return d % 4 < 2
	}
	{ sub(/\r$/, ""); line = $0; sub(/^(\[[^]]*\] *)+/, "", line); sub(/^ +/, "", line) }
	/Oops: |BUG: / {
		s = $0; sub(/.*(Oops|BUG): +/, "", s); sub(/(:|, probably|, address).*/, "", s); gsub(/[ ,]+/, "-", s); sub(/-$/, "", s)
		if (what && bug && rip == "?" && /Oops: / && (pf || (s != "" && index(what, s)))) { if (!pf) what = s; bug = 0; pf = 0; next }
		flush()
		what = s; bug = /BUG: /; rip = "?"; before = "?"; flags = "?"; next
	}
	# x86 announces a kernel page fault by "BUG: <kind>, address: ..."
	# and "#PF: ..." lines; its "Oops:" line follows.
	what && bug && rip == "?" && /#PF: / { pf = 1; next }
	what && /---\[ end trace|Kernel panic/ { flush(); next }
	what && /RIP: [0-9a-f]+:/ {
		s = $0; sub(/.*RIP: [0-9a-f]+:/, "", s); sub(/[ \r].*/, "", s)
		if (rip == "?") { rip = s; next }
		f = s; sub(/\+.*/, "", f)
		pending = (s ~ /\+0x0\// && irq_entry(f) && irq_entry(last)) ? f : ""
		last = ""; next
	}
	what && /Code: / && before == "?" {
		s = $0; sub(/.*Code: /, "", s); n = split(s, b, " ")
		for (i = 2; i <= n; i++) if (b[i] ~ /^</) { before = b[i - 1]; break }
		next
	}
	what && / EFLAGS: [0-9a-f]+/ {
		s = $0; sub(/.* EFLAGS: /, "", s); sub(/[^0-9a-f].*/, "", s)
		if (flags == "?") flags = s
		else if (pending != "" && irq == "" && if_clear(s)) irq = "masked-" pending
		pending = ""; next
	}
	# The frame right before an interrupted RIP is what interrupted it;
	# an unreliable one ("? ...") says nothing.
	what && line ~ /^[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[^]]*\])?$/ { last = line; sub(/\+.*/, "", last); next }
	what && line ~ /^\? / { last = "" }
	END { flush() }'
}

# rig_oopses < console text: the guest's oopses (guest_oops_lines) were
# there, and each is the rig's (lab/README.md, "Rig faults"):
#  - an int3 trap whose code byte before RIP is not the int3 (cc) the CPU
#    ran, that is, code that memory no longer held when the CPU ran it
#    (QEMU's stale translation of code the kernel patched and serialised;
#    control runs of Debian's own kernel met it at boot);
#  - an exception frame whose flags no x86 CPU writes (a reserved bit set:
#    bits 3, 5, 15 or 22 to 31, or bit 1 clear), written by QEMU's emulation
#    of the exception, not by the guest;
#  - a trace in which an interrupt entry was interrupted at its first
#    instruction by an interrupt, with interrupts off in that frame: the
#    gate had just cleared IF, and no CPU delivers a maskable interrupt then
#    (the same event delivered twice by the emulation; the second delivery,
#    from kernel mode, skips swapgs and the entry faults on the user's GS
#    base until the entry stack overflows).
# Prints them as signatures oops:int3:<where>:<byte>,
# oops:<what>:<where>:eflags-<flags> and oops:<what>:<where>:irq-<irq>;
# returns 1 when there is none, or one of another kind.
rig_oopses() {
	local what rip byte flags irq n=0 sigs=()
	while read -r what rip byte flags irq; do
		n=$((n + 1))
		if [ "$what" = int3 ] && [ "$byte" != cc ] && [ "$byte" != '?' ]; then
			sigs+=("oops:int3:$rip:$byte")
		elif _rig_flags_impossible "$flags"; then
			sigs+=("oops:$what:$rip:eflags-$flags")
		elif [[ $irq == masked-asm_* ]]; then
			sigs+=("oops:$what:$rip:irq-$irq")
		else
			return 1
		fi
	done < <(guest_oops_lines)
	[ "$n" -gt 0 ] || return 1
	printf '%s\n' "${sigs[@]}" | paste -s -d' ' -
}

# rig_oopses_any_kernel <<< SIGNATURES: each of rig_oopses' signatures is of
# a kind that is the rig's in a restored kernel too: an exception frame no
# CPU writes, or an interrupt no CPU delivers.  (An int3 over a patched
# byte is the rig's in a kernel that booted, but a restored kernel could
# run one through a bug of the restore.)
rig_oopses_any_kernel() {
	local sig n=0 sigs
	read -r -d '' -a sigs < <(tr '\n' ' ')
	for sig in "${sigs[@]}"; do
		n=$((n + 1))
		[[ $sig =~ ^oops:[^:]+:.+:(eflags-[0-9a-f]+|irq-masked-asm_[a-z0-9_]+)$ ]] || return 1
	done
	[ "$n" -gt 0 ]
}

# _rig_flags_impossible HEX: RFLAGS no CPU pushes (see rig_oopses).
_rig_flags_impossible() {
	case $1 in '' | *[!0-9a-f]*) return 1 ;; esac
	[ ${#1} -le 16 ] || return 1	# not a register: not judged
	local f=$((16#$1))
	[ $((f & 0xffffffffffc08028)) != 0 ] || [ $((f & 2)) = 0 ]
}

# hvmctx_event FILE VCPU: the event Xen was injecting into VCPU when it saved
# the domain's state (xen-hvmctx's "event" field of that vCPU's CPU record:
# bit 31 valid, bits 8-10 the type, 0-7 the vector), "event=-" without one.
hvmctx_event() {
	[ -f "$1" ] || { echo event=-; return 0; }
	awk -v v="$2" '
	/^Entry [0-9]+: type 2 instance / { sub(/,/, "", $6); cpu = ($6 == v) }
	cpu && $1 == "event" { e = $2; exit }
	END { print "event=" (e == "" ? "-" : e) }' "$1" 2>/dev/null
}

# rig_fault_only LOG_DIR ABSORBED: the scenario saw more domU triple faults
# than the ABSORBED ones a retry or a repeat already paid for, and every
# fault has a signature of the rig's (rig_fault_is_rigs), each guest RIP
# named with the _text of its own domain's kernel (steps.log says which
# guest a domain id was, its @@READY line the _text) and the domain's
# saved state in LOG_DIR (rig_fault_with_inject); prints them.
rig_fault_only() {
	local lines d line sig text name n=0 named=()
	[ -f "$1/serial.log" ] || return 1
	lines=$(rig_fault_lines "" < "$1/serial.log")
	[ -n "$lines" ] || return 1
	while read -r d _; do
		n=$((n + 1))
		name=$(_domid_name "$1" "$d")
		text=$(grep -a -o '@@READY .* text=[0-9a-f]*' "$1/guest-$name.log" 2>/dev/null | tail -n 1 | sed 's/.* text=//')
		line=$(grep -a -A12 "$d Triple fault" "$1/serial.log" | rig_fault_lines "$(dom_system_map "$name" "$1")" "$text" |
			head -n 1 | rig_fault_with_inject "$1")
		read -r _ sig _ <<< "$line"
		rig_fault_is_rigs "$sig" || return 1
		named+=("$line")
	done <<< "$lines"
	[ "$n" -gt "$2" ] || return 1
	printf '%s\n' "${named[@]}" | paste -s -d';' - | sed 's/;/; /g'
}

# _domid_name LOG_DIR d<ID>v<N>: the guest name domain ID had in the
# scenario (its "NAME: domid ID," line in steps.log).
_domid_name() {
	local id=${2#d}
	id=${id%v*}
	grep -a -o "[^ ]*: domid $id," "$1/steps.log" 2>/dev/null | head -n 1 | sed 's/: domid.*//'
}

# rig_oops_only SIGNATURES ABSORBED: of a scenario's guest oopses, all of
# them the rig's (SIGNATURES, from rig_oopses), those that the ABSORBED
# signatures (what a retry or a repeat already paid for, one oops:... word
# each) leave over are one or more of the kind that is the rig's in any
# kernel, booted or restored (rig_oopses_any_kernel); prints those.
rig_oops_only() {
	local left=() a i
	read -r -a left <<< "$1"
	for a in $2; do
		for i in "${!left[@]}"; do
			[ "${left[$i]}" = "$a" ] && { unset "left[$i]"; break; }
		done
	done
	[ ${#left[@]} -gt 0 ] || return 1
	printf '%s\n' "${left[@]}" | rig_oopses_any_kernel || return 1
	printf '%s\n' "${left[@]}" | paste -s -d' ' -
}

# scenario_rerun_faults LOG_DIR ABSORBED RC ATTEMPT: a scenario run that
# failed (RC other than 0, 77 skipped, 99 lab dead, 124 timed out: a hang
# is not paid for again) may run again when it is at most the
# LAB_MAX_RERUNS-th (2) rerun, none of its cycles gave up after
# LAB_MAX_CYCLE_REPEATS (3) repeats, and its faults are the rig's only and
# more than those ABSORBED (the lines of the run's retries file this run of
# the scenario added): triple faults (rig_fault_only), or else a guest's
# oopses (rig_oops_only); prints those faults.
scenario_rerun_faults() {
	local dir=$1 absorbed=$2 rc=$3 attempt=$4 repeats oopses=''
	case $rc in 0 | 77 | 99 | 124) return 1 ;; esac
	[ "$attempt" -le "${LAB_MAX_RERUNS:-2}" ] || return 1
	repeats=$(cat "$dir/rig-repeats" 2>/dev/null | wc -l)
	[ "$repeats" -lt "${LAB_MAX_CYCLE_REPEATS:-3}" ] || return 1
	# A guest oops that is not the rig's by any reading explains the
	# failure, whatever Xen's log holds.
	if grep -a -q -E 'Oops: |BUG: ' "$dir"/guest-*.log 2>/dev/null; then
		oopses=$(cat "$dir"/guest-*.log | rig_oopses) || return 1
	fi
	# A line without an oops: signature was a triple fault (or a domain
	# that died before its first console line).
	rig_fault_only "$dir" "$(grep -c -v -e 'oops:' -e '^$' <<< "$absorbed")" ||
		{ [ -n "$oopses" ] && rig_oops_only "$oopses" "$(grep -o 'oops:[^ ;)]*' <<< "$absorbed")"; }
}
