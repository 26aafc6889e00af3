# The rig: QEMU (TCG) running Xen and a PV dom0, and the host -> dom0
# command channel (dom0_run).  Part of the lab library (lab/lib/lab.sh).
# shellcheck shell=bash

lab_qemu_pid() { cat "$LAB_RUN/qemu.pid" 2>/dev/null; }
# _lab_ours PID: PID is a QEMU of this build directory's lab (a pid on
# record may have been reused since).
_lab_ours() { tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" | grep -q -- "$LAB_RUN/serial.log"; }
lab_running() { local p; p=$(lab_qemu_pid) && [ -n "$p" ] && _lab_ours "$p"; }

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

# lab_kill: stop this lab's QEMU (TERM, then KILL after 10 s), and nothing
# else: the pid must still be a QEMU serving this build directory.
lab_kill() {
	local p
	p=$(lab_qemu_pid) || return 0
	if [ -n "$p" ] && _lab_ours "$p"; then
		kill "$p" 2>/dev/null
		for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$p" 2>/dev/null && { lab_say "QEMU $p ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$p" 2>/dev/null; }
	fi
	rm -f "$LAB_RUN/qemu.pid"
}

# Build what is missing (cached) and stage the guest kernel + initramfs.
lab_prepare() {
	"$LAB_TOP/scripts/deps.sh" lab
	LAB_DOM0_SET=$("$LAB_DIR/dom0/build.sh") || lab_die "dom0 build failed"
	"$LAB_DIR/guest/build.sh" || lab_die "guest initramfs build failed"
	local w=0
	while [ ! -f "$GUEST_OBJ/vmlinux" ] || [ ! -f "$GUEST_OBJ/arch/x86/boot/bzImage" ]; do
		[ $w -ge "${LAB_KERNEL_WAIT:-0}" ] && lab_die "no guest kernel in $GUEST_OBJ (run 'make kernel')"
		sleep 30; w=$((w + 30))
	done
	mkdir -p "$LAB_BUILD/images"
	# Copied unless the same: the kernel of another base may be older.
	local f
	for f in vmlinux arch/x86/boot/bzImage System.map; do
		cmp -s "$GUEST_OBJ/$f" "$LAB_BUILD/images/${f##*/}" || cp "$GUEST_OBJ/$f" "$LAB_BUILD/images/${f##*/}"
	done
	# The lab's test modules (lab/guest/modules), which scenarios add to
	# the initramfs they boot.
	rm -f "$LAB_BUILD"/images/*.ko
	local ko
	for ko in "$GUEST_OBJ"/lab-modules/*.ko; do
		[ -f "$ko" ] && cp "$ko" "$LAB_BUILD/images/"
	done
	# xvdc template: mkfs.ext4 on the host takes 0.1 s, in the guest ~10 s.
	local e=$LAB_BUILD/images/ext4-${DOM_EXT4_MB}M.img
	if [ ! -f "$e" ]; then
		truncate -s "${DOM_EXT4_MB}M" "$e.tmp" && mkfs.ext4 -q -F "$e.tmp" && mv "$e.tmp" "$e"
	fi
}

# _lab_stamp: what a lab boots (QEMU and its options, Xen, dom0 and their
# arguments, the guest images); a running lab booted from anything else is
# not reused.
_lab_stamp() {
	{
		"$LAB_QEMU" --version | head -n 1
		echo "$LAB_QEMU_ACCEL $LAB_QEMU_CPU $LAB_MEM $LAB_XEN_ARGS $LAB_DOM0_ARGS $LAB_DOM0_SET"
		cat "$LAB_DOM0_SET/overlay.key" 2>/dev/null
		cd "$LAB_BUILD/images" && sha256sum vmlinux bzImage guest-initrd.gz 2>/dev/null
	} | sha256sum | cut -c1-16
}

# lab_boot: boot Xen + dom0, unless a lab booted from the same inputs is up
# (_lab_stamp), or, in a run of lab/run-tests.sh, the lab of that run.
lab_boot() {
	if [ -n "${LAB_RUNNER:-}" ] && lab_running && [ -e "$LAB_RUN/dom0.ready" ]; then
		LAB_DOM0_READY_S=$(cat "$LAB_RUN/dom0.ready.s")
		return 0
	fi
	lab_prepare
	local d=$LAB_DOM0_SET t0 stamp
	stamp=$(_lab_stamp)
	if lab_running; then
		if [ -e "$LAB_RUN/dom0.ready" ] && [ "$(cat "$LAB_RUN/stamp" 2>/dev/null)" = "$stamp" ]; then
			LAB_DOM0_READY_S=$(cat "$LAB_RUN/dom0.ready.s")
			return 0
		fi
		# Not a lab a locked run (run-tests.sh, demo.sh) is using.
		[ -n "${LAB_LOCKED:-}" ] || (exec 8>"$LAB_BUILD/lab.lock" && flock -n 8) ||
			lab_die "the running lab was booted from other inputs, and a lab run holds $LAB_BUILD/lab.lock"
		lab_say "the running lab is not ready or was booted from other inputs: booting another"
		lab_kill
	fi
	rm -rf "$LAB_RUN"
	mkdir -p "$LAB_RUN"/{ctl,console,cfg}
	# Control doorbell: host writes "<request>\n" to ctl.in, QEMU forwards it
	# to dom0's virtio-serial port "lab.ctl" (lab/dom0/overlay/lab-agent).
	mkfifo "$LAB_RUN/ctl.in" "$LAB_RUN/ctl.out"
	# Scratch disk for dom0 (/scratch): domU disk images and save files.
	truncate -s 16G "$LAB_RUN/scratch.img"
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1 "$LAB_RUN/scratch.img"
	echo "$stamp" > "$LAB_RUN/stamp"
	t0=$(_now)
	echo "$t0" > "$LAB_RUN/boot.t0"
	lab_log "boot: $("$LAB_QEMU" --version | head -n 1) -accel $LAB_QEMU_ACCEL -cpu $LAB_QEMU_CPU -m $LAB_MEM, xen $(head -n 1 "$d/inputs.txt") ${LAB_XEN_ARGS_EXTRA:-}"
	setsid "$LAB_QEMU" -name xenlab \
		-accel "$LAB_QEMU_ACCEL" -cpu "$LAB_QEMU_CPU" -smp 2 -m "$LAB_MEM" \
		-display none -vga none -nic none -monitor none -no-reboot \
		-chardev file,id=ser0,path="$LAB_RUN/serial.log" -serial chardev:ser0 \
		-kernel "$d/xen" -append "$LAB_XEN_ARGS" \
		-initrd "$d/vmlinuz $LAB_DOM0_ARGS,$d/initrd.cpio" \
		-virtfs local,path="$LAB_BUILD",mount_tag=lab,security_model=none,id=lab \
		-drive file="$LAB_RUN/scratch.img",if=virtio,format=raw,cache=unsafe \
		-device virtio-serial-pci,id=vser0 -chardev pipe,id=ctl,path="$LAB_RUN/ctl" \
		-device virtserialport,chardev=ctl,name=lab.ctl \
		> "$LAB_RUN/qemu.log" 2>&1 < /dev/null 9>&- &
	echo $! > "$LAB_RUN/qemu.pid"
	# Until it has exec'd setsid and QEMU, the job is a copy of this shell,
	# whose command line is not QEMU's: lab_running would take it for a
	# QEMU that is gone (seen once, a make check that bailed out 11 s into
	# its lab, before QEMU had opened its serial log).
	local p=$! i=0
	while ! _lab_ours "$p" && kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	local end=$((SECONDS + LAB_DOM0_TIMEOUT))
	until [ -e "$LAB_RUN/dom0.ready" ]; do
		lab_check_alive
		[ $SECONDS -lt $end ] || lab_bail "dom0 not ready after ${LAB_DOM0_TIMEOUT}s"
		sleep 0.5
	done
	# A standalone scenario (not under run-tests.sh) powers its own lab off,
	# after its own exit hooks.
	[ -n "${LAB_RUNNER:-}${LAB_KEEP:-}" ] || lab_on_exit lab_shutdown
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
	export LAB_LOCKED=1
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
