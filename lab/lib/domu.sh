# domUs: config, create and boot (with the retry of a create that died
# before its first console line), the console protocol (dom_send,
# dom_result, dom_run) and waits on console markers.  Part of the lab
# library (lab/lib/lab.sh).
# shellcheck shell=bash

# Dom0's blkback in sysfs.  Unbinding backend "vbd-DOMID-DEVID" from it holds
# that disk's backend still, its xenstore state left as it was; binding it
# again lets it go on.
# shellcheck disable=SC2034 # for the scenarios
VBD_DRIVER=/sys/bus/xen-backend/drivers/vbd

# Console logs of a domain (xl migrate makes "<name>--incoming").
_dom_logs() { printf '%s\n' "$LAB_RUN/console/guest-$1.log" "$LAB_RUN/console/guest-$1--incoming.log"; }

# dom_cursor NAME [MARK]: later waits/reads of NAME's console only see what
# follows.  With MARK, a cursor of its own that only "dom_log NAME@MARK"
# reads: what followed, across the domains NAME had since (NAME's own
# cursor starts over with each new domain).
dom_cursor() {
	local f
	mkdir -p "$LAB_RUN/cursor"
	for f in $(_dom_logs "$1"); do
		printf '%s %s\n' "$f" "$(stat -c %s "$f" 2>/dev/null || echo 0)"
	done > "$LAB_RUN/cursor/$1${2:+@$2}"
}

# dom_log NAME: console text since the cursor.
dom_log() {
	local f off
	[ -e "$LAB_RUN/cursor/$1" ] || { for f in $(_dom_logs "$1"); do cat "$f" 2>/dev/null; done; return 0; }
	while read -r f off; do
		[ -e "$f" ] && tail -c +"$((off + 1))" "$f"
	done < "$LAB_RUN/cursor/$1"
}

# dom_wait_marker NAME REGEX [TIMEOUT]: wait for a console line (since the
# cursor) matching REGEX; print it.  Fails fast on a guest panic.
dom_wait_marker() {
	local name=$1 re=$2 t=${3:-$DOM_READY_TIMEOUT} end line
	end=$((SECONDS + t))
	local log ser_off nf
	# DOM_SERIAL_OFF: look for triple faults from there on (default: now).
	ser_off=${DOM_SERIAL_OFF:-$(stat -c %s "$LAB_RUN/serial.log" 2>/dev/null || echo 0)}
	while :; do
		# No "dom_log | grep -m1": under pipefail the SIGPIPE would read as no match.
		log=$(dom_log "$name")
		line=$(grep -a -m1 -E -- "$re" <<< "$log") && { printf '%s\n' "$line"; return 0; }
		if grep -a -q -E 'Kernel panic|Oops:|BUG: kernel' <<< "$log"; then
			echo "dom_wait_marker: $name: guest panic/oops while waiting for /$re/" >&2
			return 2
		fi
		lab_check_alive
		# A triple fault shuts the domain down (on_reboot=preserve keeps
		# it, for dom_save_fault_state): do not wait for the timeout when
		# it was this one's.  Xen prints the fault before the toolstack
		# sees the shutdown: look again on every round while a fault is in
		# the log.
		nf=$(tail -c +"$((ser_off + 1))" "$LAB_RUN/serial.log" | grep -a -c 'Triple fault')
		if [ "$nf" -gt 0 ]; then
			if ! dom_exists "$name"; then
				echo "dom_wait_marker: $name: the domain triple-faulted while waiting for /$re/" >&2
				tail -c +"$((ser_off + 1))" "$LAB_RUN/serial.log" | grep -a -A4 'Triple fault' | sed 's/^/# /' >&2
				return 3
			fi
		fi
		if [ $SECONDS -ge "$end" ]; then
			echo "dom_wait_marker: $name: timeout after ${t}s waiting for /$re/" >&2
			dom_diagnose "$name"
			return 124
		fi
		sleep 0.3
	done
}

# dom_diagnose NAME: after a timeout, record where the guest is stuck: its
# blocked tasks (sysrq w, typed as ^O w on its PV console, handled by the
# kernel even when the agent is busy) and the xenbus states of its disks
# (frontend and backend), in the scenario log.  Once per scenario.
dom_diagnose() {
	local name=$1 id map
	[ -e "$LAB_SCEN_LOG/diagnosed" ] && return 0
	: > "$LAB_SCEN_LOG/diagnosed"
	id=$(dom_id "$name")
	case $id in
	'' | *[!0-9]*) echo "# $name: no such domain any more (crashed or destroyed): see the serial log" >&2; return 0 ;;
	esac
	DOM0_QUIET=1 dom0_run -t 30 "domcon $id \"\$(printf '\\017w')\"" >/dev/null 2>&1
	{
		echo "# xenbus states of domain $id (frontend / backend):"
		DOM0_QUIET=1 dom0_run -t 30 "for f in \$(xenstore-list /local/domain/$id/device/vbd 2>/dev/null); do
			b=\$(xenstore-read /local/domain/$id/device/vbd/\$f/backend)
			echo \"vbd \$f: frontend \$(xenstore-read /local/domain/$id/device/vbd/\$f/state)\" \
				\"backend \$(xenstore-read \$b/state)\" \
				\"queues \$(xenstore-read /local/domain/$id/device/vbd/\$f/multi-queue-num-queues 2>/dev/null || echo 1)\"
		done" 2>&1
		echo "# vCPUs of domain $id (xenctx; symbols from the guest's System.map):"
		map=$(dom_system_map "$name")
		DOM0_QUIET=1 dom0_run -t 60 "for v in \$(seq 0 \$((\$(xl list $id | awk 'NR == 2 { print \$4 }') - 1))); do
			echo vcpu \$v:; /usr/lib/xen-4.17/bin/xenctx -s /lab/${map#"$LAB_BUILD"/} -S $id \$v 2>&1 | head -n 40
		done" 2>&1
	} | sed 's/^/# /' | tee -a "$LAB_SCEN_LOG/steps.log" >&2
	# Xen's view of the domain's event channels, into the serial log.
	DOM0_QUIET=1 dom0_run -t 30 "xl debug-keys e" >/dev/null 2>&1
	sleep 3	# let the guest print its task dump before the tails are taken
	echo "# blocked tasks (sysrq w): see the domU console log" >&2
}

dom_id() { dom0_run -t 30 "xl domid $1" 2>/dev/null | tr -d '\n '; }
# dom_exists NAME: the domain exists and has neither crashed (on_crash=preserve)
# nor shut down (on_reboot=preserve keeps a triple-faulted one).
dom_exists() { DOM0_QUIET=1 dom0_run -t 30 "xl list $1 2>/dev/null | awk 'NR == 2 && \$5 !~ /[cs]/ { ok = 1 } END { exit !ok }'"; }

# dom_wait_gone NAME [TIMEOUT]: wait (in dom0) until the domain no longer exists.
# Returns 2 if it crashed instead (on_crash=preserve keeps it), 3 if it was
# shut down for a reboot, which for a lab guest is a triple fault
# (on_reboot=preserve keeps it: dom_destroy saves its state), 1 on timeout.
dom_wait_gone() {
	local t=${2:-180}
	dom0_run -t $((t + 30)) "i=0; while s=\$(xl list -v $1 2>/dev/null | awk 'NR == 2 { print \$5, \$8 }'); [ -n \"\$s\" ]; do
		case \$s in *c*) echo crashed; exit 2 ;; *s*' 1') echo rebooted; exit 3 ;; esac
		i=\$((i+1)); [ \$i -gt $((t * 4)) ] && exit 1; sleep 0.25; done"
}

# _dom_save_fault_state_cmd [NAME]: the dom0 command that saves, for NAME or
# for every domain a reboot shut down and on_reboot=preserve kept (for a
# lab guest, a triple fault), Xen's whole saved state of its vCPUs
# (xen-hvmctx: segments, descriptor tables, control registers, the event
# Xen was injecting) in the scenario's logs as hvmctx-<domid>.txt, once.
# lab/lib/faults.sh reads it to tell the rig's faults (hvmctx_inject).
_dom_save_fault_state_cmd() {
	local dir=/lab/${LAB_SCEN_LOG#"$LAB_BUILD"/}
	printf '%s' "xl list -v ${1:-} 2>/dev/null | awk 'NR > 1 && \$5 ~ /s/ && \$8 == 1 { print \$2 }' |
		while read -r id; do [ -e $dir/hvmctx-\$id.txt ] ||
			/usr/lib/xen-4.17/bin/xen-hvmctx \$id > $dir/hvmctx-\$id.txt 2>&1; done; true"
}

# dom_save_fault_state [NAME]: run it (a scenario's end, before its faults
# are judged).
dom_save_fault_state() { DOM0_QUIET=1 dom0_run -t 60 "$(_dom_save_fault_state_cmd "${1:-}")" >/dev/null 2>&1; }

# Write NAME's xl config: PVH, HVM or PV (DOM_TYPE); the lab's guest (its kernel, initramfs
# and three disks) unless DOM_KERNEL, DOM_RAMDISK and DOM_DISKS (the disk
# targets' specs, one per line, in /scratch/NAME) name another.
_dom_cfg() {
	local name=$1 vcpus=$2 cfg=$LAB_RUN/cfg/$1.cfg l kernel=${DOM_KERNEL:-} disks
	shift 2
	disks=${DOM_DISKS:-"xvda data.img
xvdb swap.img
xvdc ext4.img"}
	{
		echo "name = \"$name\""
		if [ "$DOM_TYPE" = hvm ]; then
			echo 'type = "hvm"'
			echo "kernel = \"${kernel:-/scratch/img/bzImage}\""
			echo 'device_model_version = "qemu-xen"'
			echo 'vga = "none"'
			echo 'vnc = 0'
			echo 'serial = "none"'
		else
			echo "type = \"$DOM_TYPE\""
			echo "kernel = \"${kernel:-/scratch/img/vmlinux}\""
		fi
		echo "ramdisk = \"${DOM_RAMDISK:-/scratch/img/guest-initrd.gz}\""
		echo "cmdline = \"$DOM_CMDLINE ${DOM_CMDLINE_EXTRA:-}\""
		echo "memory = $DOM_MEM"
		echo "vcpus = $vcpus"
		# Xen emulates RDTSC when the TSC is not invariant, as it is not
		# under QEMU; every pvclock read then exits to Xen and re-enters
		# the guest through QEMU's nested SVM (lab/README.md, pitfalls).
		echo "tsc_mode = \"${DOM_TSC_MODE:-native}\""
		printf 'disk = [ %s ]\n' "$(while read -r l file; do
			printf "'format=raw,vdev=%s,access=rw,target=/scratch/%s/%s'\n" "$l" "$name" "$file"
		done <<< "$disks" | paste -s -d, -)"
		echo 'on_poweroff = "destroy"'
		# A triple fault is a reboot: keep the domain until dom_destroy
		# saved its vCPUs' state (lab/lib/faults.sh names faults by it).
		echo 'on_reboot = "preserve"'
		echo 'on_crash = "preserve"'
		for l in "$@"; do echo "$l"; done
	} > "$cfg"
}

# First byte the guest itself printed since the cursor (xenconsoled writes
# "Logfile Opened" as soon as the domain exists).
_dom_guest_output() { dom_log "$1" | grep -a -v -E '^(\[[^]]*\] )?Logfile (Opened|Closed)' | head -c 1; }

# _dom_start NAME: xl create from the existing config; retry (up to
# LAB_MAX_RETRIES) when the domain dies before its first console line (a
# rig fault, lab/README.md).  Sets DOM_ID, and DOM_START_SERIAL_OFF to where
# Xen's serial log was when the domain that stayed was created.
_dom_start() {
	local name=$1 attempt=${_dom_boot_retries:-0} end out t0
	while :; do
		dom_cursor "$name"
		t0=$(_now)
		# shellcheck disable=SC2034 # for dom_hibernate_and_restore
		DOM_START_SERIAL_OFF=$(stat -c %s "$LAB_RUN/serial.log" 2>/dev/null || echo 0)
		out=$(dom0_run -t 180 "xl create /lab/run/cfg/$name.cfg" 2>&1) ||
			{ printf '%s\n' "$out" >&2; echo "xl create $name failed" > "$LAB_SCEN_LOG/reason"; return 1; }
		lab_log "$name: xl create done in $(_since "$t0")s"
		end=$((SECONDS + ${DOM_FIRST_OUTPUT_TIMEOUT:-180}))
		local k=0
		while [ -z "$(_dom_guest_output "$name")" ]; do
			lab_check_alive
			k=$((k + 1))
			if [ $((k % 6)) = 0 ] && ! dom_exists "$name"; then
				# Gone before printing anything: emulator flake, retry.
				sleep 1
				[ -n "$(_dom_guest_output "$name")" ] && break
				attempt=$((attempt + 1))
				DOM0_QUIET=1 dom_destroy "$name"
				echo "$(date -u +%T) $LAB_SCENARIO $name: died before its first console line" >> "$LAB_RUN/retries"
				lab_log "$name: died before its first console line (retry $attempt/$LAB_MAX_RETRIES)"
				grep -a -E 'Triple fault|d[0-9]+v[0-9]+.*(crash|fault)' "$LAB_RUN/serial.log" | tail -n 2 >&2
				[ $attempt -le "$LAB_MAX_RETRIES" ] || { echo "$name died before its first console line $attempt times" > "$LAB_SCEN_LOG/reason"; return 1; }
				continue 2
			fi
			if [ $SECONDS -ge "$end" ]; then
				echo "$name: no console output after ${DOM_FIRST_OUTPUT_TIMEOUT:-180}s" > "$LAB_SCEN_LOG/reason"
				return 1
			fi
			sleep 0.5
		done
		DOM_ID=$(dom_id "$name")
		# One count with dom_boot's retries, when it called.
		[ -z "${_dom_boot_retries+set}" ] || _dom_boot_retries=$attempt
		lab_log "$name: domid $DOM_ID, first console output after $(_since "$t0")s"
		return 0
	done
}

# dom_tails NAME [N]: the last N lines of Xen's serial log and of NAME's
# console since its cursor (what a failed create or boot left behind).
dom_tails() {
	local n=${2:-30}
	echo "----- Xen serial (last $n lines): $LAB_RUN/serial.log"
	tail -n "$n" "$LAB_RUN/serial.log" 2>/dev/null | sed 's/^/  /'
	echo "----- domU console (last $n lines): $LAB_RUN/console/guest-$1.log"
	dom_log "$1" | tail -n "$n" | sed 's/^/  /'
}

# dom_create NAME [VCPUS] [extra xl cfg lines...]: fresh disks, boot, wait for
# the guest's @@READY.  Sets DOM_ID; returns non-zero (with console tails on
# stderr) on failure.  Env: DOM_TYPE=pvh|hvm|pv, DOM_MEM, DOM_CMDLINE_EXTRA,
# DOM_READY_TIMEOUT, DOM_KEEP_DISKS=1; DOM_MAKE_DISKS, a dom0 command run in
# /scratch/NAME, makes another guest's disks (with DOM_DISKS, _dom_cfg).
dom_create() {
	local name=$1 vcpus=${2:-1}
	shift; [ $# -gt 0 ] && shift
	_dom_cfg "$name" "$vcpus" "$@"
	if [ -z "${DOM_KEEP_DISKS:-}" ]; then
		dom0_run "$(_dom_save_fault_state_cmd "$name"); xl destroy $name >/dev/null 2>&1; mkdir -p /scratch/$name && cd /scratch/$name && ${DOM_MAKE_DISKS:-rm -f data.img swap.img ext4.img &&
			truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
			cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img}" >/dev/null || return 1
	fi
	dom_boot "$name"
}

# dom_boot NAME: boot NAME from its existing config and disks, as they are,
# and wait for the guest's @@READY.  Sets DOM_ID and DOM_READY_S.
dom_boot() {
	local name=$1 t0 line why='' rc fault
	# Retries of this boot, _dom_start's included (dynamic scope).
	local _dom_boot_retries=0
	while :; do
		t0=$(_now)
		_dom_start "$name" || { dom_tails "$name" >&2; return 1; }
		line=$(DOM_SERIAL_OFF=$DOM_START_SERIAL_OFF dom_wait_marker "$name" '@@READY' "$DOM_READY_TIMEOUT")
		rc=$?
		case $rc in
		0) break ;;
		2) why="$name: panic or oops while booting" ;;
		3) why="$name: triple fault while booting" ;;
		*) why="$name: no @@READY marker within ${DOM_READY_TIMEOUT}s" ;;
		esac
		# A fault of the rig's (lab/lib/faults.sh) while booting cost
		# nothing the guest had: boot it again, as for a guest that died
		# before its first line (_dom_start).
		fault=
		if [ $rc = 2 ] || [ $rc = 3 ]; then
			DOM0_QUIET=1 dom_destroy "$name"	# its state first, for the judgement
			fault=$(dom_boot_fault_rigs "$name" $rc)
		fi
		if [ -z "$fault" ] || [ $_dom_boot_retries -ge "$LAB_MAX_RETRIES" ]; then
			echo "$why${fault:+ ($fault, $_dom_boot_retries boots retried already)}" > "$LAB_SCEN_LOG/reason"
			echo "dom_create: $name: guest never reported ready" >&2
			dom_tails "$name" >&2
			return 1
		fi
		_dom_boot_retries=$((_dom_boot_retries + 1))
		echo "$(date -u +%T) $LAB_SCENARIO $name: boot ended by a rig fault ($fault)" >> "$LAB_RUN/retries"
		lab_log "$name: $why, a fault of the rig's ($fault): booting again (retry $_dom_boot_retries/$LAB_MAX_RETRIES)"
	done
	DOM_READY_S=$(_since "$t0")
	lab_log "$name: ready after ${DOM_READY_S}s (${line##*@@READY })"
}

# dom_boot_fault_rigs NAME RC: after a boot of NAME (the domain _dom_start
# created last) that ended in an oops (RC 2) or a triple fault (RC 3), the
# signatures when each of its faults is the rig's (rig_oopses,
# rig_faults_all_rigs); nothing otherwise.
dom_boot_fault_rigs() {
	if [ "$2" = 2 ]; then
		# An oops and a triple fault together are not judged here.
		rig_faults_since "$DOM_START_SERIAL_OFF" "$DOM_ID" >/dev/null && return 0
		dom_log "$1" | rig_oopses
		return 0
	fi
	local lines
	lines=$(rig_faults_all_rigs "$DOM_START_SERIAL_OFF" "$DOM_ID" "$(dom_boot_text "$1")" "$(dom_system_map "$1")") || return 0
	cut -d' ' -f2 <<< "$lines" | paste -s -d' ' -
}

# dom_destroy NAME: xl destroy, after saving the state of a domain a triple
# fault left (_dom_save_fault_state_cmd).
dom_destroy() {
	dom0_run -t 60 "$(_dom_save_fault_state_cmd "$1"); xl destroy $1" >/dev/null 2>&1
}

# dom_send NAME 'command': type a command to the guest agent, do not wait.
# Prints the command id (for dom_result).
dom_send() {
	local name=$1 cmd=$2 id b64
	id=$(date +%s%N | tail -c 10)$RANDOM
	b64=$(printf '%s\n' "$cmd" | base64 -w0)
	[ ${#b64} -lt 3900 ] || { echo "dom_send: command too long for the console line" >&2; return 1; }
	printf '%s %s$ %s\n' "$(date -u +%H:%M:%S.%3N)" "$name" "$cmd" >> "$LAB_SCEN_LOG/steps.log"
	DOM0_QUIET=1 dom0_run -t 30 "domcon $name '@@C $id $b64'" >&2 || return 1
	echo "$id"
}

# dom_result NAME ID [TIMEOUT]: wait for command ID, print its output, return
# its rc.  The console ends each line with a carriage return (the tty's
# ONLCR); this is the one place that strips it.
dom_result() {
	local name=$1 id=$2 t=${3:-$DOM_RUN_TIMEOUT} line rc
	line=$(dom_wait_marker "$name" "@@E $id [0-9]+" "$t") || return 124
	rc=${line##*@@E $id }
	rc=${rc%%[!0-9]*}
	dom_log "$name" | grep -a "@@O $id " | sed "s/^.*@@O $id //; s/\r$//"
	return "${rc:-1}"
}

# dom_wall_offset NAME: seconds the guest's wall clock is ahead of dom0's.
dom_wall_offset() {
	local g d
	g=$(dom_run "$1" 'date +%s' 30) && d=$(dom0_run 'date +%s') || return 1
	echo $((g - d))
}

# dom_balloon_kb NAME: "target current" of NAME's balloon, in KiB.
dom_balloon_kb() {
	dom_run "$1" 'd=/sys/devices/system/xen_memory/xen_memory0; echo $(cat $d/target_kb) $(cat $d/info/current_kb)' 30
}

# dom_balloon_settles NAME SECONDS [KIB [NOT]]: wait until NAME's balloon has
# reached its target, and that target is KIB (if not empty) and not NOT (the
# toolstack's new target reaches the guest through a xenstore watch).
# Prints the memory it settled at, or where it stood.
dom_balloon_settles() {
	local end=$((SECONDS + $2)) t c
	while read -r t c < <(dom_balloon_kb "$1"); [ "${t:-x}" != "${c:-y}" ] || [ "${t:-x}" != "${3:-$t}" ] ||
		[ "${t:-x}" = "${4:-}" ]; do
		[ $SECONDS -lt $end ] || { echo "target ${t:-?} KiB, current ${c:-?} KiB"; return 1; }
		sleep 2
	done
	echo "$c KiB"
}

# dom_warnings NAME: the first lines of any warning, BUG or oops in NAME's
# kernel log (empty when there is none).
dom_warnings() { dom_run "$1" 'dmesg | grep -E -A3 "WARNING|BUG|Oops" | head -n 8' 30; }

# dom_xenbus_warnings NAME: the lines of NAME's kernel log from xenbus (its
# core and its buses) at level warning or above, empty when there is none.
dom_xenbus_warnings() { dom_run "$1" 'dmesg -r | grep -E "^<[0-4]>" | grep -i xenbus | head -n 8' 30; }

# xenhold_start NAME ARGS...: run the guest tool xenhold ARGS in NAME's
# background until xenhold_stop; prints what it said, fails unless it holds.
# The output file goes first: one left by the previous xenhold could be read
# before the new one is truncated by the redirection.
xenhold_start() {
	local name=$1
	shift
	dom_run "$name" "rm -f /tmp/xenhold.out; xenhold $* > /tmp/xenhold.out 2>&1 & echo \$! > /tmp/xenhold.pid
		for i in \$(seq 20); do grep -q . /tmp/xenhold.out 2>/dev/null && break; sleep 0.5; done
		cat /tmp/xenhold.out; grep -q '^held' /tmp/xenhold.out" 60
}

# xenhold_stop NAME: end the xenhold of xenhold_start; fails if it lives on.
xenhold_stop() {
	dom_run "$1" 'p=$(cat /tmp/xenhold.pid); kill $p; for i in $(seq 20); do kill -0 $p 2>/dev/null || exit 0; sleep 0.5; done; exit 1' 30
}

# dom_run NAME 'command' [TIMEOUT]: run in the guest (sh), print output, return rc
# (124 on timeout).
dom_run() {
	local id
	id=$(dom_send "$1" "$2") || return 1
	dom_result "$1" "$id" "${3:-$DOM_RUN_TIMEOUT}"
}

# dom_ready_text NAME: the _text of NAME's kernel, as its last @@READY said.
dom_ready_text() {
	local f
	for f in $(_dom_logs "$1"); do cat "$f" 2>/dev/null; done |
		grep -a -o '@@READY .* text=[0-9a-f]*' | tail -n 1 | sed 's/.* text=//'
}

# dom_boot_text NAME: where the kernel of NAME's boot that has not announced
# itself yet was placed: System.map's own _text when nothing moves it (PVH,
# whose kernel Xen loads as an ELF image with no decompressor to randomise
# it, or nokaslr on the command line), "none" (not known) otherwise.
dom_boot_text() {
	local cfg=$LAB_RUN/cfg/$1.cfg
	grep -q -E '^type = "pvh"|^cmdline = ".*nokaslr' "$cfg" 2>/dev/null || { echo none; return 0; }
	awk '$3 == "_text" { print $1; exit }' "$(dom_system_map "$1")"
}

# dom_set_system_map NAME MAP: NAME runs the kernel of System.map MAP (its
# vmlinux beside it), not the lab guest's; kept in the scenario's logs so
# that the runner names NAME's faults from it too.
dom_set_system_map() { printf '%s\n' "$2" > "$LAB_SCEN_LOG/system-map-$1"; }

# dom_system_map NAME [LOG_DIR]: the System.map of NAME's kernel.
dom_system_map() {
	cat "${2:-$LAB_SCEN_LOG}/system-map-$1" 2>/dev/null || echo "$LAB_BUILD/images/System.map"
}

# xenbus_states DOMID CLASS DEVID: the xenbus states of a device's frontend
# and backend, "4 4" when both are Connected.
xenbus_states() {
	dom0_run -t 30 "xenstore-read /local/domain/$1/device/$2/$3/state /local/domain/0/backend/$2/$1/$3/state" |
		tr -s '\n' ' ' | sed 's/ $//'
}

# xenbus_states_wait DOMID CLASS DEVID WANT [TIMEOUT]: the device's states
# (xenbus_states) are WANT, or become so within TIMEOUT seconds (0); prints
# the states when they do not.
xenbus_states_wait() {
	local end=$((SECONDS + ${5:-0})) st
	while st=$(xenbus_states "$1" "$2" "$3"); [ "$st" != "$4" ]; do
		[ $SECONDS -lt $end ] || { echo "$st"; return 1; }
		sleep 1
	done
}

# xenbus_connected DOMID CLASS DEVID [TIMEOUT]: both ends of the device are
# Connected, or become so within TIMEOUT seconds (0); prints the states
# when they do not.
xenbus_connected() { xenbus_states_wait "$1" "$2" "$3" "4 4" "${4:-0}"; }
