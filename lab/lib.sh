# Xen lab library for scenarios (tests/*.sh).  Source it; do not run it.
# shellcheck shell=bash
#
# Host side of the lab: QEMU (TCG) runs Xen + a PV dom0; build/lab is shared into
# dom0 as /lab (9p).  dom0 serves shell snippets dropped in build/lab/run/ctl
# (lab/dom0/lab-agent); domUs serve commands typed on their PV console by dom0
# (guest/init), and their output comes back through xenconsoled's log files
# (build/lab/run/console/guest-<name>.log).  See lab/README.md for the API.

. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
. "$(dirname "${BASH_SOURCE[0]}")/rig-faults.sh"

LAB_RUN=$LAB_BUILD/run
LAB_LOGS=$LAB_BUILD/logs
LAB_MEM=${LAB_MEM:-2048}
LAB_DOM0_TIMEOUT=${LAB_DOM0_TIMEOUT:-300}
LAB_MAX_RETRIES=${LAB_MAX_RETRIES:-3}
# The emulated machine Xen runs on (lab/README.md, "Rig faults").
LAB_QEMU=${LAB_QEMU:-qemu-system-x86_64}
LAB_QEMU_ACCEL=${LAB_QEMU_ACCEL:-tcg,thread=multi}
LAB_QEMU_CPU=${LAB_QEMU_CPU:-qemu64,+svm,+npt}
# Scenario log directory (set by run-tests.sh; standalone runs get one too).
LAB_SCEN_LOG=${LAB_SCEN_LOG:-$LAB_LOGS/${LAB_SCENARIO:-adhoc}}
mkdir -p "$LAB_SCEN_LOG"

# Domain defaults (override per call through the environment).
DOM_TYPE=${DOM_TYPE:-pvh}
DOM_MEM=${DOM_MEM:-192}
DOM_DATA_MB=${DOM_DATA_MB:-256}
DOM_SWAP_MB=${DOM_SWAP_MB:-384}
DOM_EXT4_MB=${DOM_EXT4_MB:-64}
DOM_CMDLINE=${DOM_CMDLINE:-console=hvc0 resume=/dev/xvdb resumewait no_console_suspend pm_debug_messages xen.fifo_events=0}
DOM_READY_TIMEOUT=${DOM_READY_TIMEOUT:-240}
DOM_RUN_TIMEOUT=${DOM_RUN_TIMEOUT:-120}
FIO_SIZE=${FIO_SIZE:-64M}

LAB_CRASH_RE='Dom0 crashed|Panic on CPU|Kernel panic'

# ---------------------------------------------------------------- logging

# Timestamped step, to stderr and the scenario's steps.log / timeline.
lab_log() {
	local t; t=$(date -u +%H:%M:%S.%3N)
	printf '%s %s\n' "$t" "$*" >> "$LAB_SCEN_LOG/steps.log"
	printf '# %s %s\n' "$t" "$*" >&2
}
_now() { date +%s.%N; }
# Seconds (1 decimal) since a _now value.
_since() { awk -v a="$1" -v b="$(_now)" 'BEGIN { printf "%.1f", b - a }'; }

# fail REASON: the scenario failed (reason goes to the TAP line for TODO tests).
fail() {
	local why
	# Keep the lower layer's more precise reason (dom_create's, say).
	why=$(head -n 1 "$LAB_SCEN_LOG/reason" 2>/dev/null)
	printf '%s\n' "$*${why:+ ($why)}" > "$LAB_SCEN_LOG/reason"
	lab_log "FAIL: $*"
	exit 1
}
# skip REASON: TAP skip.
skip() {
	printf '%s\n' "$*" > "$LAB_SCEN_LOG/skip"
	lab_log "SKIP: $*"
	exit 77
}
# Record a measurement "key value" for the summary in lab/README.md.
lab_metric() { printf '%s %s\n' "$1" "$2" >> "$LAB_SCEN_LOG/metrics"; lab_log "metric $1=$2"; }

# ---------------------------------------------------------------- QEMU / dom0

lab_qemu_pid() { cat "$LAB_RUN/qemu.pid" 2>/dev/null; }
lab_running() { local p; p=$(lab_qemu_pid) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# Print the last lines of every console: Xen serial (with dom0's hvc0), dom0
# agent/dmesg if reachable, and each domU log.
# lab_tails [N [GUEST_LOG_DIR]]: the last N lines of Xen's serial log, dom0's
# dmesg and the domU consoles (those in GUEST_LOG_DIR, e.g. one scenario's
# slices, or every console of this lab run).
lab_tails() {
	local n=${1:-25} f
	echo "----- Xen serial + dom0 console (last $n lines): $LAB_RUN/serial.log"
	tail -n "$n" "$LAB_RUN/serial.log" 2>/dev/null | sed 's/^/  /'
	if lab_running && [ -e "$LAB_RUN/dom0.ready" ]; then
		echo "----- dom0 dmesg (last $n lines)"
		DOM0_QUIET=1 dom0_run -t 20 "dmesg | tail -n $n; echo; xl list" 2>/dev/null | sed 's/^/  /'
	fi
	for f in "${2:-$LAB_RUN/console}"/guest-*.log; do
		[ -e "$f" ] || continue
		echo "----- domU console (last $n lines): $f"
		tail -n "$n" "$f" | sed 's/^/  /'
	done
}

# Abort everything (TAP "Bail out!") when Xen/dom0 died.
lab_bail() {
	echo "Bail out! $*"
	printf '%s\n' "$*" > "$LAB_RUN/bailed"
	lab_tails 40 >&2
	lab_kill
	exit 99
}

# Called from every wait loop: QEMU alive, no crash in the serial log.
lab_check_alive() {
	lab_running || lab_bail "QEMU is gone"
	if grep -qE "$LAB_CRASH_RE" "$LAB_RUN/serial.log" 2>/dev/null; then
		lab_bail "crash on the serial console: $(grep -m1 -E "$LAB_CRASH_RE" "$LAB_RUN/serial.log")"
	fi
}

lab_kill() {
	local p; p=$(lab_qemu_pid) || return 0
	[ -n "$p" ] && kill "$p" 2>/dev/null
	rm -f "$LAB_RUN/qemu.pid"
}

# Build what is missing (cached) and stage the guest kernel + initramfs.
lab_prepare() {
	"$LAB_DIR/deps.sh"
	LAB_DOM0_SET=$("$LAB_DIR/build-dom0.sh") || lab_die "dom0 build failed"
	"$LAB_TOP/guest/build.sh" || lab_die "guest initramfs build failed"
	local w=0
	while [ ! -f "$GUEST_OBJ/vmlinux" ] || [ ! -f "$GUEST_OBJ/arch/x86/boot/bzImage" ]; do
		[ $w -ge "${LAB_KERNEL_WAIT:-0}" ] && lab_die "no guest kernel in $GUEST_OBJ (run 'make kernel')"
		sleep 30; w=$((w + 30))
	done
	mkdir -p "$LAB_BUILD/images"
	cp -u "$GUEST_OBJ/vmlinux" "$LAB_BUILD/images/vmlinux"
	cp -u "$GUEST_OBJ/arch/x86/boot/bzImage" "$LAB_BUILD/images/bzImage"
	cp -u "$GUEST_OBJ/System.map" "$LAB_BUILD/images/System.map"
	# xvdc template: mkfs.ext4 on the host takes 0.1 s, in the guest ~10 s.
	local e=$LAB_BUILD/images/ext4-${DOM_EXT4_MB}M.img
	if [ ! -f "$e" ]; then
		truncate -s "${DOM_EXT4_MB}M" "$e.tmp" && mkfs.ext4 -q -F "$e.tmp" && mv "$e.tmp" "$e"
	fi
}

# lab_boot: boot Xen + dom0 unless this run's lab is already up.
lab_boot() {
	if lab_running && [ -e "$LAB_RUN/dom0.ready" ]; then
		return 0
	fi
	lab_prepare
	local d=$LAB_DOM0_SET t0 xen_args dom0_args
	rm -rf "$LAB_RUN"
	mkdir -p "$LAB_RUN"/{ctl,console,cfg}
	# Control doorbell: host writes "<request>\n" to ctl.in, QEMU forwards it
	# to dom0's virtio-serial port "lab.ctl" (lab/dom0/lab-agent).
	mkfifo "$LAB_RUN/ctl.in" "$LAB_RUN/ctl.out"
	# Scratch disk for dom0 (/scratch): domU disk images and save files.
	truncate -s 16G "$LAB_RUN/scratch.img"
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1 "$LAB_RUN/scratch.img"
	xen_args="bootscrub=false console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M noreboot loglvl=all guest_loglvl=all ${LAB_XEN_ARGS_EXTRA:-}"
	dom0_args="console=hvc0 earlyprintk=xen loglevel=7"
	t0=$(_now)
	echo "$t0" > "$LAB_RUN/boot.t0"
	lab_log "boot: $("$LAB_QEMU" --version | head -n 1) -accel $LAB_QEMU_ACCEL -cpu $LAB_QEMU_CPU -m $LAB_MEM, xen $(head -n 1 "$d/inputs.txt") ${LAB_XEN_ARGS_EXTRA:-}"
	setsid "$LAB_QEMU" -name xenlab \
		-accel "$LAB_QEMU_ACCEL" -cpu "$LAB_QEMU_CPU" -smp 2 -m "$LAB_MEM" \
		-display none -vga none -nic none -monitor none -no-reboot \
		-chardev file,id=ser0,path="$LAB_RUN/serial.log" -serial chardev:ser0 \
		-kernel "$d/xen" -append "$xen_args" \
		-initrd "$d/vmlinuz $dom0_args,$d/initrd.cpio" \
		-virtfs local,path="$LAB_BUILD",mount_tag=lab,security_model=none,id=lab \
		-drive file="$LAB_RUN/scratch.img",if=virtio,format=raw,cache=unsafe \
		-device virtio-serial-pci,id=vser0 -chardev pipe,id=ctl,path="$LAB_RUN/ctl" \
		-device virtserialport,chardev=ctl,name=lab.ctl \
		> "$LAB_RUN/qemu.log" 2>&1 < /dev/null 9>&- &
	echo $! > "$LAB_RUN/qemu.pid"
	local end=$((SECONDS + LAB_DOM0_TIMEOUT))
	until [ -e "$LAB_RUN/dom0.ready" ]; do
		lab_check_alive
		[ $SECONDS -lt $end ] || lab_bail "dom0 not ready after ${LAB_DOM0_TIMEOUT}s"
		sleep 0.5
	done
	# A standalone scenario (not under run-tests.sh) powers its own lab off.
	[ -n "${LAB_RUNNER:-}${LAB_KEEP:-}" ] || trap lab_shutdown EXIT
	LAB_DOM0_READY_S=$(_since "$t0")
	echo "$LAB_DOM0_READY_S" > "$LAB_RUN/dom0.ready.s"
	# Guest images on dom0's local disk: xl create reads them 3x faster than over 9p.
	dom0_run "mkdir -p /scratch/img && cp /lab/images/vmlinux /lab/images/bzImage /lab/images/guest-initrd.gz /scratch/img/" >/dev/null ||
		lab_bail "cannot stage guest images in dom0"
	lab_log "boot: dom0 ready after ${LAB_DOM0_READY_S}s ($(awk '/^xen_version/ { print "Xen " $3 }' "$LAB_RUN/xl-info.txt"))"
}

# lab_lock: one runner (run-tests.sh, demo.sh) per lab build directory.  A
# second one would find the first one's lab up, reuse it and drive its
# guests with the kernel the first one staged.  Held until the runner exits.
lab_lock() {
	mkdir -p "$LAB_BUILD"
	exec 9>"$LAB_BUILD/lab.lock"
	flock -n 9 || lab_die "another lab run holds $LAB_BUILD/lab.lock (wait for it, or stop it)"
}

# lab_shutdown: power dom0 off cleanly (falls back to killing QEMU).
lab_shutdown() {
	lab_running || return 0
	local p; p=$(lab_qemu_pid)
	lab_rss > "$LAB_RUN/qemu.rss" 2>/dev/null
	touch "$LAB_RUN/ctl/poweroff"
	_lab_ring poweroff
	local end=$((SECONDS + 30))
	while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.5; done
	lab_kill
}

# QEMU peak RSS (VmHWM) in MiB.
lab_rss() {
	local p; p=$(lab_qemu_pid) || return 1
	awk '/VmHWM/ { printf "%d\n", $2 / 1024 }' "/proc/$p/status"
}

# Ring dom0's doorbell (opening the FIFO read-write never blocks).
_lab_ring() { printf '%s\n' "$1" 1<> "$LAB_RUN/ctl.in"; }

# dom0_run [-t SECONDS] 'shell command': run in dom0 (cwd /lab), print its
# output (stdout+stderr), return its exit status; 124 on timeout.
dom0_run() {
	local t=$DOM_RUN_TIMEOUT
	if [ "$1" = -t ]; then t=$2; shift 2; fi
	local n f rc end
	n=$(date +%s%N)$RANDOM
	f=$LAB_RUN/ctl/$n
	[ -n "${DOM0_QUIET:-}" ] || printf '%s dom0$ %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" >> "$LAB_SCEN_LOG/steps.log"
	printf 'export PATH=/usr/local/sbin:/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin\n%s\n' "$*" > "$f.tmp"
	mv "$f.tmp" "$f.cmd"
	_lab_ring "$n"
	end=$((SECONDS + t))
	while [ ! -s "$f.rc" ]; do
		lab_check_alive
		if [ $SECONDS -ge "$end" ]; then
			echo "dom0_run: timeout after ${t}s: $*" >&2
			return 124
		fi
		sleep 0.1
	done
	cat "$f.out"
	rc=$(cat "$f.rc")
	[ -n "${DOM0_QUIET:-}" ] || [ "$rc" = 0 ] || printf '  rc=%s: %s\n' "$rc" "$(tail -n 3 "$f.out" | tr '\n' ' ')" >> "$LAB_SCEN_LOG/steps.log"
	rm -f "$f.cmd" "$f.out" "$f.rc"
	return "$rc"
}

# ---------------------------------------------------------------- domUs

# Console logs of a domain (xl migrate makes "<name>--incoming").
_dom_logs() { printf '%s\n' "$LAB_RUN/console/guest-$1.log" "$LAB_RUN/console/guest-$1--incoming.log"; }

# dom_cursor NAME: later waits/reads of NAME's console only see what follows.
dom_cursor() {
	local f
	mkdir -p "$LAB_RUN/cursor"
	for f in $(_dom_logs "$1"); do
		printf '%s %s\n' "$f" "$(stat -c %s "$f" 2>/dev/null || echo 0)"
	done > "$LAB_RUN/cursor/$1"
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
		# A triple fault ends the domain (on_reboot=destroy): do not wait
		# for the timeout when it was this one's.  Xen prints the fault
		# before the toolstack destroys the domain: look again on every
		# round while a fault is in the log.
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
	local name=$1 id
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
		DOM0_QUIET=1 dom0_run -t 60 "for v in \$(seq 0 \$((\$(xl list $id | awk 'NR == 2 { print \$4 }') - 1))); do
			echo vcpu \$v:; /usr/lib/xen-4.17/bin/xenctx -s /lab/images/System.map -S $id \$v 2>&1 | head -n 40
		done" 2>&1
	} | sed 's/^/# /' | tee -a "$LAB_SCEN_LOG/steps.log" >&2
	# Xen's view of the domain's event channels, into the serial log.
	DOM0_QUIET=1 dom0_run -t 30 "xl debug-keys e" >/dev/null 2>&1
	sleep 3	# let the guest print its task dump before the tails are taken
	echo "# blocked tasks (sysrq w): see the domU console log" >&2
}

dom_id() { dom0_run -t 30 "xl domid $1" 2>/dev/null | tr -d '\r\n '; }
# dom_exists NAME: the domain exists and has not crashed (on_crash=preserve).
dom_exists() { DOM0_QUIET=1 dom0_run -t 30 "xl list $1 2>/dev/null | awk 'NR == 2 && \$5 !~ /c/ { ok = 1 } END { exit !ok }'"; }

# dom_wait_gone NAME [TIMEOUT]: wait (in dom0) until the domain no longer exists.
# Returns 2 if it crashed instead (on_crash=preserve keeps it), 1 on timeout.
dom_wait_gone() {
	local t=${2:-180}
	dom0_run -t $((t + 30)) "i=0; while s=\$(xl list $1 2>/dev/null | awk 'NR == 2 { print \$5 }'); [ -n \"\$s\" ]; do
		case \$s in *c*) echo crashed; exit 2 ;; esac
		i=\$((i+1)); [ \$i -gt $((t * 4)) ] && exit 1; sleep 0.25; done"
}

# Write NAME's xl config (PVH or HVM, three disks, no network).
_dom_cfg() {
	local name=$1 vcpus=$2 cfg=$LAB_RUN/cfg/$1.cfg l
	shift 2
	{
		echo "name = \"$name\""
		if [ "$DOM_TYPE" = hvm ]; then
			echo 'type = "hvm"'
			echo 'kernel = "/scratch/img/bzImage"'
			echo 'device_model_version = "qemu-xen"'
			echo 'vga = "none"'
			echo 'vnc = 0'
			echo 'serial = "none"'
		else
			echo 'type = "pvh"'
			echo 'kernel = "/scratch/img/vmlinux"'
		fi
		echo 'ramdisk = "/scratch/img/guest-initrd.gz"'
		echo "cmdline = \"$DOM_CMDLINE ${DOM_CMDLINE_EXTRA:-}\""
		echo "memory = $DOM_MEM"
		echo "vcpus = $vcpus"
		# Xen emulates RDTSC when the TSC is not invariant, as it is not
		# under QEMU; every pvclock read then exits to Xen and re-enters
		# the guest through QEMU's nested SVM (lab/README.md, pitfalls).
		echo "tsc_mode = \"${DOM_TSC_MODE:-native}\""
		echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=/scratch/$name/data.img',"
		echo "         'format=raw,vdev=xvdb,access=rw,target=/scratch/$name/swap.img',"
		echo "         'format=raw,vdev=xvdc,access=rw,target=/scratch/$name/ext4.img' ]"
		echo 'on_poweroff = "destroy"'
		echo 'on_reboot = "destroy"'
		echo 'on_crash = "preserve"'
		for l in "$@"; do echo "$l"; done
	} > "$cfg"
}

# First byte the guest itself printed since the cursor (xenconsoled writes
# "Logfile Opened" as soon as the domain exists).
_dom_guest_output() { dom_log "$1" | grep -a -v -E '^(\[[^]]*\] )?Logfile (Opened|Closed)' | head -c 1; }

# _dom_start NAME: xl create from the existing config; retry (up to
# LAB_MAX_RETRIES) when the domain dies before its first console line
# (QEMU 7.2 nested-SVM triple faults, lab-notes pitfall 2).  Sets DOM_ID.
_dom_start() {
	local name=$1 attempt=0 end out t0
	while :; do
		dom_cursor "$name"
		t0=$(_now)
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
				DOM0_QUIET=1 dom0_run -t 60 "xl destroy $name" >/dev/null 2>&1
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
# stderr) on failure.  Env: DOM_TYPE=pvh|hvm, DOM_MEM, DOM_CMDLINE_EXTRA,
# DOM_READY_TIMEOUT, DOM_KEEP_DISKS=1.
dom_create() {
	local name=$1 vcpus=${2:-1}
	shift; [ $# -gt 0 ] && shift
	_dom_cfg "$name" "$vcpus" "$@"
	if [ -z "${DOM_KEEP_DISKS:-}" ]; then
		dom0_run "xl destroy $name >/dev/null 2>&1; mkdir -p /scratch/$name && cd /scratch/$name &&
			rm -f data.img swap.img ext4.img &&
			truncate -s ${DOM_DATA_MB}M data.img && truncate -s ${DOM_SWAP_MB}M swap.img &&
			cp --sparse=always /lab/images/ext4-${DOM_EXT4_MB}M.img ext4.img" >/dev/null || return 1
	fi
	dom_boot "$name"
}

# dom_boot NAME: boot NAME from its existing config and disks, as they are,
# and wait for the guest's @@READY.  Sets DOM_ID and DOM_READY_S.
dom_boot() {
	local name=$1 t0 line why=
	t0=$(_now)
	_dom_start "$name" || { dom_tails "$name" >&2; return 1; }
	line=$(dom_wait_marker "$name" '@@READY' "$DOM_READY_TIMEOUT")
	case $? in
	0) ;;
	2) why="$name: panic or oops while booting" ;;
	3) why="$name: triple fault while booting" ;;
	*) why="$name: no @@READY marker within ${DOM_READY_TIMEOUT}s" ;;
	esac
	if [ -n "$why" ]; then
		echo "$why" > "$LAB_SCEN_LOG/reason"
		echo "dom_create: $name: guest never reported ready" >&2
		dom_tails "$name" >&2
		return 1
	fi
	DOM_READY_S=$(_since "$t0")
	lab_log "$name: ready after ${DOM_READY_S}s (${line##*@@READY })"
}

# dom_destroy NAME
dom_destroy() { dom0_run -t 60 "xl destroy $1" >/dev/null 2>&1; }

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

# dom_result NAME ID [TIMEOUT]: wait for command ID, print its output, return its rc.
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
	g=$(dom_run "$1" 'date +%s' 30 | tr -d '\r') && d=$(dom0_run 'date +%s' | tr -d '\r') || return 1
	echo $((g - d))
}

# dom_run NAME 'command' [TIMEOUT]: run in the guest (sh), print output, return rc
# (124 on timeout).
dom_run() {
	local id
	id=$(dom_send "$1" "$2") || return 1
	dom_result "$1" "$id" "${3:-$DOM_RUN_TIMEOUT}"
}

# _hib_explain NAME: after a fresh boot where a resume was expected, the
# console lines that say why: the end of the image write in the old domain
# and what the new kernel found on the resume device.
_hib_explain() {
	dom_log "$1" | grep -a -E 'PM: |swsusp|hibernat|resume|[Ss]wap|xvdb|blkfront|Xen hibernation' |
		grep -a -v -E 'calling |returned |progress: ' | tail -n 40 | sed 's/^/# /' | tee -a "$LAB_SCEN_LOG/steps.log" >&2
}

# _hib_image_pending NAME: NAME's swap disk (xvdb, swap.img in dom0) still
# carries the hibernation signature, that is an image no kernel has begun to
# load.  HIBERNATE_SIG "S1SUSPEND" ends the first 4 KiB page (struct
# swsusp_header in kernel/power/swap.c).
_hib_image_pending() {
	local sig
	sig=$(dom0_run -t 30 "dd if=/scratch/$1/swap.img bs=1 skip=4086 count=9 2>/dev/null") || return 1
	[ "${sig//[$'\r\n']/}" = S1SUSPEND ]
}

# dom_ready_text NAME: the _text of NAME's kernel, as its last @@READY said.
dom_ready_text() {
	local f
	for f in $(_dom_logs "$1"); do cat "$f" 2>/dev/null; done |
		grep -a -o '@@READY .* text=[0-9a-f]*' | tail -n 1 | sed 's/.* text=//'
}

# _hib_fault SERIAL_OFFSET DOMID NAME: the domain triple-faulted after that
# offset of Xen's serial log; sets HIB_FAULT (the faults' signatures and
# RIPs, lab/rig-faults.sh) and HIB_RIG (1 when each one is the rig's).
_hib_fault() {
	local lines rc
	lines=$(rig_faults_all_rigs "$1" "$2" "$(dom_ready_text "$3")")
	rc=$?
	[ -n "$lines" ] || return 1
	HIB_FAULT=$(cut -d' ' -f2- <<< "$lines" | paste -s -d';' - | sed 's/;/; /g')
	HIB_RIG=
	[ $rc = 0 ] && HIB_RIG=1
	return 0
}

# dom_hibernate_and_restore NAME: echo disk in the guest, wait for the domain
# to power off, create a NEW domain from the same config (resume from xvdb),
# wait for the resumed guest's agent.  Prints the new domid and sets DOM_ID
# (call it directly, not in $(...), to keep the HIB_* variables).  On failure sets
# HIB_FAIL to one of: no-poweroff, crashed, triple-fault, while-off (the
# HIB_WHILE_OFF dom0 command failed), no-resume (fresh boot), resume-timeout,
# and returns non-zero.  Timeline in HIB_T_* (seconds).
dom_hibernate_and_restore() {
	local name=$1 old new id t0 t1 line ser0
	HIB_FAIL= HIB_FAULT= HIB_RIG=
	old=$(dom_id "$name")
	dom_cursor "$name"
	ser0=$(stat -c %s "$LAB_RUN/serial.log" 2>/dev/null || echo 0)
	t0=$(_now)
	lab_log "$name: hibernate (echo disk), domid $old"
	id=$(dom_send "$name" 'sync; echo disk > /sys/power/state; rc=$?; echo "@@RESUMED rc=$rc" > /dev/kmsg; echo "@@RESUMED rc=$rc"; exit $rc') ||
		{ HIB_FAIL=send; return 1; }
	dom_wait_gone "$name" "${S4_OFF_TIMEOUT:-240}" >/dev/null
	case $? in
	0) ;;
	2) HIB_FAIL=crashed; lab_log "$name: domain crashed during hibernation"; return 1 ;;
	*) HIB_FAIL=no-poweroff; lab_log "$name: domain did not power off after echo disk"; return 1 ;;
	esac
	HIB_T_OFF=$(_since "$t0")
	# A triple fault "reboots" the domain, and on_reboot=destroy makes
	# that look like the power-off that ends a hibernation.
	if _hib_fault "$ser0" "$old" "$name"; then
		lab_log "$name: domain $old triple-faulted during hibernation after ${HIB_T_OFF}s: $HIB_FAULT"
		dom_log "$name" | grep -a -v -E 'calling |returned ' | tail -n 12 | sed 's/^/# last console: /' >&2
		# With the image's signature on xvdb, the image was written
		# whole and the fault came while powering off: restore it.
		if [ -z "$HIB_RIG" ] || ! _hib_image_pending "$name"; then
			HIB_FAIL=triple-fault
			return 1
		fi
		echo "$(date -u +%T) $LAB_SCENARIO $name: triple fault after the image was written ($HIB_FAULT)" >> "$LAB_RUN/retries"
		lab_log "$name: the image was written whole before the fault (a rig signature): restoring it"
	fi
	lab_log "$name: domain $old powered off after ${HIB_T_OFF}s"
	# The retry rule below relies on this: an image on xvdb after every power-off.
	_hib_image_pending "$name" || {
		HIB_FAIL=no-image
		lab_log "$name: domain $old powered off but xvdb holds no hibernation image"
		return 1
	}
	# HIB_WHILE_OFF: a dom0 command to run while no domain holds the guest.
	if [ -n "${HIB_WHILE_OFF:-}" ]; then
		dom0_run -t 60 "$HIB_WHILE_OFF" >/dev/null || { HIB_FAIL=while-off; return 1; }
	fi
	t1=$(_now)
	local attempt=0 rc ser_off
	while :; do
		ser_off=$(stat -c %s "$LAB_RUN/serial.log" 2>/dev/null || echo 0)
		_dom_start "$name" || { HIB_FAIL=create; return 1; }
		new=$DOM_ID
		HIB_T_CREATE=$(_since "$t1")
		line=$(DOM_SERIAL_OFF=$ser_off dom_wait_marker "$name" "@@E $id [0-9]+|@@READY" "${S4_RESUME_TIMEOUT:-240}")
		rc=$?
		[ $rc = 3 ] || break
		# The loading kernel triple-faulted.  While the image's signature
		# is still on xvdb, the loader never got as far as reading it
		# (swsusp_check() writes the swap signature back first thing):
		# nothing was lost, and a new domain can load the image as the
		# first one would have (a fresh boot of the same kernel, as at
		# create time).  Counted as a create retry.
		attempt=$((attempt + 1))
		_hib_fault "$ser_off" "$new" "$name"
		if ! _hib_image_pending "$name"; then
			HIB_FAIL=triple-fault-loading
			lab_log "$name: domain $new triple-faulted loading the image: $HIB_FAULT"
			return 1
		fi
		echo "$(date -u +%T) $LAB_SCENARIO $name: loader triple fault before reading the image" >> "$LAB_RUN/retries"
		lab_log "$name: domain $new triple-faulted before reading the image (retry $attempt/$LAB_MAX_RETRIES)"
		[ $attempt -le "$LAB_MAX_RETRIES" ] || { HIB_FAIL=triple-fault-loading; return 1; }
		DOM0_QUIET=1 dom0_run -t 60 "xl destroy $name" >/dev/null 2>&1
		t1=$(_now)
	done
	[ $rc = 0 ] || { HIB_FAIL=resume-timeout; lab_log "$name: no resume marker"; return 1; }
	case $line in
	*@@READY*)
		HIB_FAIL=no-resume
		lab_log "$name: fresh boot instead of resume"
		_hib_explain "$name"
		return 1 ;;
	esac
	HIB_T_RESUMED=$(_since "$t1")
	HIB_RC=${line##*@@E $id }
	HIB_RC=${HIB_RC%%[!0-9]*}
	lab_log "$name: resumed as domid $new after ${HIB_T_RESUMED}s (echo disk rc=$HIB_RC)"
	[ "$new" != "$old" ] || { HIB_FAIL=same-domid; return 1; }
	[ "$HIB_RC" = 0 ] || { HIB_FAIL="echo-disk-rc-$HIB_RC"; return 1; }
	echo "$new"
}

# hib_cycle NAME [RECOVER]: dom_hibernate_and_restore, where a rig fault
# costs a repeat of the cycle, not the scenario.  A cycle that failed
# because a domain triple-faulted (HIB_FAIL triple-fault: the image was not
# written whole; triple-fault-loading: the loader had read it), each fault
# with a signature of the rig's (lab/rig-faults.sh), lost the guest's memory
# but nothing it had synced to disk: NAME boots afresh from its disks
# (dom_boot), RECOVER (a command evaluated in the scenario's shell) starts
# again what the scenario keeps running in the guest, and the cycle runs
# again.  At most LAB_MAX_CYCLE_REPEATS (3) per scenario, each a line in
# the run's retries and in the scenario's rig-repeats.  Any other failure
# returns non-zero with HIB_FAIL set, as dom_hibernate_and_restore does.
hib_cycle() {
	local name=$1 recover=${2:-:} n
	while :; do
		dom_hibernate_and_restore "$name" >/dev/null && return 0
		case $HIB_FAIL in triple-fault | triple-fault-loading) ;; *) return 1 ;; esac
		if [ -z "$HIB_RIG" ]; then
			HIB_FAIL="$HIB_FAIL ($HIB_FAULT: not a signature of the rig's)"
			return 1
		fi
		n=$(cat "$LAB_SCEN_LOG/rig-repeats" 2>/dev/null | wc -l)
		if [ "$n" -ge "${LAB_MAX_CYCLE_REPEATS:-3}" ]; then
			HIB_FAIL="$HIB_FAIL ($HIB_FAULT; $n cycles repeated already)"
			return 1
		fi
		echo "$(date -u +%T) $LAB_SCENARIO $name: cycle repeated after $HIB_FAIL ($HIB_FAULT)" |
			tee -a "$LAB_SCEN_LOG/rig-repeats" >> "$LAB_RUN/retries"
		lab_log "$name: $HIB_FAIL with the rig's signature: booting afresh from the disks, repeating the cycle"
		dom_destroy "$name"
		dom_boot "$name" || { HIB_FAIL="no fresh boot after a rig fault"; return 1; }
		eval "$recover" || { HIB_FAIL="after a rig fault, '$recover' failed"; return 1; }
	done
}

# dom_sci_check NAME: press the HVM guest's ACPI power button (xl trigger)
# and wait for its ACPI interrupt (SCI) to be counted.  Xen delivers the SCI
# of an HVM guest as a physical IRQ bound to an event channel ("xen-pirq"
# in /proc/interrupts), which a hibernation hands from kernel to kernel.
# Prints "before -> after"; fails when the count does not move in 10 s.
dom_sci_check() {
	local name=$1 line before after i
	line=$(_sci_line "$name")
	case $line in
	*xen-pirq*) ;;
	*) echo "no ACPI interrupt taken as a Xen physical IRQ: '$line'"; return 1 ;;
	esac
	before=$(_irq_total "$line")
	dom0_run -t 30 "xl trigger $name power" >/dev/null || { echo "xl trigger $name power failed"; return 1; }
	for i in $(seq 1 20); do
		after=$(_irq_total "$(_sci_line "$name")")
		[ "${after:-0}" -gt "$before" ] && { echo "$before -> $after"; return 0; }
		sleep 0.5
	done
	echo "ACPI interrupt count stayed at $before after the power button"
	return 1
}
# The guest's /proc/interrupts line of the ACPI interrupt.
_sci_line() { _net_run "$1" 'grep -E " acpi$" /proc/interrupts' 30; }
# The sum of the per-CPU counts of a /proc/interrupts line.
_irq_total() { awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' <<< "$1"; }

# ---------------------------------------------------------------- fio

_fio_args() { echo "--name=lab --thread --filename=/dev/xvda --ioengine=psync --direct=1 --bs=${FIO_BS:-1M} --size=${1:-$FIO_SIZE} --verify=crc32c"; }

# fio_write NAME [SIZE]: write the verify pattern (crc32c headers) to xvda.
fio_write() { dom_run "$1" "fio $(_fio_args "${2:-}") --rw=write --do_verify=0 --output-format=terse --terse-version=3 >/tmp/fio-write.txt 2>&1; rc=\$?; tail -n 5 /tmp/fio-write.txt | cut -c1-200; exit \$rc" "${FIO_TIMEOUT:-300}"; }

# fio_verify NAME [SIZE]: verify what fio_write wrote; non-zero on any error.
fio_verify() { dom_run "$1" "fio $(_fio_args "${2:-}") --rw=write --verify_only --verify_fatal=1 >/tmp/fio-verify.txt 2>&1; rc=\$?; grep -E 'verify|err=|bad|crc' /tmp/fio-verify.txt | head -n 8; exit \$rc" "${FIO_TIMEOUT:-300}"; }

# fio_start NAME [SIZE]: background loop of write+verify passes on xvda, at
# FIO_LOOP_OFFSET (128M), clear of the fio_write/fio_verify pattern at 0.
fio_start() {
	dom_run "$1" "rm -f /tmp/fio.stop /tmp/fio.done /tmp/fio.count /tmp/fio.fail.*
cat > /tmp/fioloop.sh <<'EOF'
i=0; f=0
while [ ! -e /tmp/fio.stop ]; do
	fio $(_fio_args "${2:-16M}") --offset=${FIO_LOOP_OFFSET:-128M} --rw=write --do_verify=1 --verify_fatal=1 > /tmp/fio.last 2>&1 || { f=\$((f+1)); cp /tmp/fio.last /tmp/fio.fail.\$i; }
	i=\$((i+1)); echo \"\$i \$f\" > /tmp/fio.count.new && mv /tmp/fio.count.new /tmp/fio.count
done
echo done > /tmp/fio.done
EOF
sh /tmp/fioloop.sh > /dev/null 2>&1 &
echo started"
}

# fio_status NAME: "passes failures" so far (the loop replaces the file by a
# rename, so a reader never sees it empty).
fio_status() { dom_run "$1" 'cat /tmp/fio.count 2>/dev/null || echo "0 0"' 30; }

# fio_stop NAME: stop the loop after its current pass; succeed when >=1 pass
# ran and none failed.  Prints "passes failures".
fio_stop() {
	local out p f
	out=$(dom_run "$1" 'touch /tmp/fio.stop; i=0; while [ ! -e /tmp/fio.done ] && [ $i -lt 600 ]; do sleep 0.5; i=$((i+1)); done
[ -e /tmp/fio.done ] || { echo "loop did not stop"; exit 1; }
cat /tmp/fio.count; for x in /tmp/fio.fail.*; do [ -e "$x" ] && grep -E "verify|err=" "$x" | head -n 5; done; true' "${FIO_TIMEOUT:-400}") || { echo "$out"; return 1; }
	echo "$out"
	read -r p f <<< "$(printf '%s\n' "$out" | head -n 1)"
	[ "${p:-0}" -ge 1 ] && [ "${f:-1}" = 0 ]
}

# ---------------------------------------------------------------- network
# Guests get a vif on dom0's bridge xenbr0 (10.99.0.1, lab/dom0/init); the
# guest is 10.99.0.2.  Nothing leaves the QEMU machine.

NET_GUEST_IP=10.99.0.2
NET_DOM0_IP=10.99.0.1
# _net_run NAME CMD TIMEOUT: dom_run without carriage returns, keeping its rc.
_net_run() {
	local out rc
	out=$(dom_run "$@")
	rc=$?
	printf '%s\n' "${out//$'\r'/}"
	return $rc
}
# xl config line for dom_create.
net_vif() { echo "vif = [ 'bridge=xenbr0,mac=${1:-00:16:3e:5a:00:02}' ]"; }

# net_up NAME: address the guest's eth0 and check that dom0 answers.
net_up() {
	dom_run "$1" "ip addr add $NET_GUEST_IP/24 dev eth0 && ip link set eth0 up &&
		i=0; until ping -c 1 -W 1 $NET_DOM0_IP >/dev/null; do i=\$((i+1)); [ \$i -ge 20 ] && exit 1; done; echo up" 60
}

# net_stream_start NAME MIB: dom0 sends MIB MiB of random data (checksummed
# on both ends) over TCP to the guest, at most ~5 MiB/s so that the stream
# outlasts a hibernation started in its middle.  The guest records the
# received size and sha256 when the sender closes.
net_stream_start() {
	local name=$1 mib=$2
	dom0_run -t 120 "head -c ${mib}M /dev/urandom > /scratch/net.bin && sha256sum < /scratch/net.bin | cut -d' ' -f1 > /scratch/net.sum
cat > /scratch/net-send.sh <<'EOS'
#!/bin/sh
i=0
while [ \$i -lt $mib ]; do
	dd if=/scratch/net.bin bs=1M skip=\$i count=1 2>/dev/null || exit 1
	i=\$((i + 1))
	[ \$((i % 5)) = 0 ] && sleep 1
done
EOS
chmod +x /scratch/net-send.sh" >/dev/null || return 1
	dom_run "$name" "rm -f /tmp/net.sum /tmp/net.dd
cat > /tmp/net-recv.sh <<'EOS'
#!/bin/sh
dd bs=65536 2>/tmp/net.dd | sha256sum | cut -d' ' -f1 > /tmp/net.sum.tmp && mv /tmp/net.sum.tmp /tmp/net.sum
EOS
chmod +x /tmp/net-recv.sh
nc -l -p 5001 -e /tmp/net-recv.sh </dev/null >/dev/null 2>&1 &
echo listening" 30 >/dev/null || return 1
	dom0_run -t 30 "(busybox nc -w 10 $NET_GUEST_IP 5001 -e /scratch/net-send.sh > /scratch/net-send.log 2>&1; echo \$? > /scratch/net-send.rc) > /dev/null 2>&1 &
echo started" >/dev/null
}

# net_rx_bytes NAME: bytes received on the guest's eth0.
net_rx_bytes() { _net_run "$1" "cat /sys/class/net/eth0/statistics/rx_bytes" 30; }

# net_stream_check NAME TIMEOUT: wait for the stream's end; succeed when the
# guest's checksum matches dom0's.
net_stream_check() {
	local name=$1 t=$2 want got
	want=$(dom0_run "cat /scratch/net.sum") || { echo "no checksum in dom0"; return 1; }
	want=${want//[$'\r\n ']/}
	got=$(_net_run "$name" "i=0; until [ -s /tmp/net.sum ]; do i=\$((i+1)); [ \$i -ge $((t * 2)) ] && exit 1; sleep 0.5; done; cat /tmp/net.sum" $((t + 30))) ||
		{ echo "stream did not end within ${t}s ($(net_rx_bytes "$name") bytes received on eth0)"; return 1; }
	[ -n "$want" ] && [ "$got" = "$want" ] || { echo "sha256 dom0 $want guest $got"; return 1; }
	echo "sha256 $got, $(_net_run "$name" 'tail -n 1 /tmp/net.dd' 30)"
}

# net_backend_unbind DOMID: netback lets go of the domain's first vif
# without telling the frontend (its xenstore state stays Connected): a
# backend that stopped answering.
net_backend_unbind() {
	dom0_run -t 30 "echo -n vif-$1-0 > /sys/bus/xen-backend/drivers/vif/unbind"
}

# net_backend_bind DOMID: bind netback to the vif again and do what xl's
# vif-bridge hotplug script did when it created the domain (bridge port
# up, hotplug-status), which netback waits for before it connects.
net_backend_bind() {
	local be=/local/domain/0/backend/vif/$1/0
	dom0_run -t 30 "echo -n vif-$1-0 > /sys/bus/xen-backend/drivers/vif/bind" || return 1
	dom0_run -t 60 "i=0; until ip link show vif$1.0 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -ge 50 ] && exit 1; sleep 0.2; done
ip link set vif$1.0 master xenbr0 && ip link set vif$1.0 up && xenstore-write $be/hotplug-status connected" >/dev/null
}

# net_backend_back NAME DOMID: bind netback again (net_backend_bind), then
# the vif must answer ping within 60 s with both ends Connected.  Records
# the ping-after-bind-s metric; prints the gap.  Fails the scenario if not.
net_backend_back() {
	local name=$1 id=$2 gap st
	net_backend_bind "$id" || fail "netback did not come back for vif-$id-0"
	gap=$(net_ping_gap "$name") || {
		dom_run "$name" 'dmesg | grep -E "vif|netfront" | tail -n 20' 30 | sed 's/^/# /' >&2
		fail "no ping answer within 60 s of netback coming back"
	}
	lab_metric ping-after-bind-s "$gap" >&2
	st=$(dom0_run -t 30 "xenstore-read /local/domain/$id/device/vif/0/state /local/domain/0/backend/vif/$id/0/state" | tr -s '\r\n' ' ')
	[ "$st" = "4 4 " ] || fail "vif frontend/backend states are '$st', not Connected"
	echo "$gap"
}

# net_ping_gap NAME: seconds (guest clock) until the guest's first answered
# ping to dom0 (one-second tries, at most 60).
net_ping_gap() {
	_net_run "$1" "t0=\$(date +%s); i=0; until ping -c 1 -W 1 $NET_DOM0_IP >/dev/null; do i=\$((i+1)); [ \$i -ge 60 ] && exit 1; done; echo \$((\$(date +%s) - t0))" 90
}
