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
#   guest:<symbol>   a guest kernel address, named from the guest's
#                    System.map (KASLR guests: guest:? unless booted nokaslr)
#   guest-user       a user-space address
# A signature is the rig's when it matches one of RIG_FAULT_SIGNATURES, each
# seen in a control run (lab/rig-health.sh: no hibernation, none of the
# series' code paths) and listed in lab/README.md with that evidence.  Any
# other fault is a real failure.
RIG_FAULT_SIGNATURES=${RIG_FAULT_SIGNATURES:-'^xen:'}

# rig_fault_lines [SYSTEM_MAP [TEXT]] < serial text: one line per triple
# fault, "d<dom>v<vcpu> <signature> <cs>:<rip>".  TEXT is the guest
# kernel's _text as the guest read it (KASLR moves it; the @@READY line
# says where), to name guest addresses from SYSTEM_MAP.
rig_fault_lines() {
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
		} else if (rip ~ /^ffffffff/)
			sig = "guest:" sym(rip)
		else
			sig = "guest-user"
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

# rig_faults_since OFFSET [DOMID [TEXT]]: the triple faults in Xen's serial
# log after OFFSET (of domain DOMID only, if given), as rig_fault_lines
# prints them.  Returns 1 when there is none.
rig_faults_since() {
	local lines
	lines=$(tail -c +"$(($1 + 1))" "$LAB_RUN/serial.log" | rig_fault_lines "" "${3:-}")
	[ -n "${2:-}" ] && lines=$(grep -E "^d$2v[0-9]+ " <<< "$lines")
	[ -n "$lines" ] || return 1
	printf '%s\n' "$lines"
}

# rig_faults_all_rigs OFFSET [DOMID [TEXT]]: there was a triple fault after OFFSET
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
