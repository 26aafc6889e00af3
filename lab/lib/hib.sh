# Hibernation of a domU and its restore on a new domain
# (dom_hibernate_and_restore, hib_cycle).  Part of the lab library
# (lab/lib/lab.sh).
# shellcheck shell=bash

# _hib_explain NAME: after a fresh boot where a resume was expected, the
# console lines that say why: the end of the image write in the old domain
# and what the new kernel found on the resume device.
_hib_explain() {
	dom_log "$1" | grep -a -E 'PM: |swsusp|hibernat|resume|[Ss]wap|xvdb|blkfront|Xen hibernation' |
		grep -a -v -E 'calling |returned |progress: ' | tail -n 40 | sed 's/^/# /' | tee -a "$LAB_SCEN_LOG/steps.log" >&2
}

# _hib_image_pending NAME: NAME's swap area still carries the hibernation
# signature, that is an image no kernel has begun to load.  HIBERNATE_SIG
# "S1SUSPEND" ends the swap area's first 4 KiB page (struct swsusp_header in
# kernel/power/swap.c).  HIB_IMAGE says where that page is: "FILE BYTES", a
# disk file in dom0's /scratch/NAME and the offset in it (default: swap.img,
# the lab guest's xvdb, at 0).
_hib_image_pending() {
	local sig file off
	read -r file off <<< "${HIB_IMAGE:-swap.img 0}"
	sig=$(dom0_run -t 30 "dd if=/scratch/$1/$file bs=1 skip=$((off + 4086)) count=9 2>/dev/null") || return 1
	[ "${sig//[$'\r\n']/}" = S1SUSPEND ]
}

# _hib_fault SERIAL_OFFSET DOMID NAME: the domain triple-faulted after that
# offset of Xen's serial log; sets HIB_FAULT (the faults' signatures and
# RIPs, lab/lib/faults.sh) and HIB_RIG (1 when each one is the rig's).
# Guest addresses are named with the _text NAME's last @@READY gave: the
# image's, right for the restored kernel, maybe not for a loader that
# faulted after it read the image.
_hib_fault() {
	local lines rc
	lines=$(rig_faults_all_rigs "$1" "$2" "$(dom_ready_text "$3")" "$(dom_system_map "$3")")
	rc=$?
	[ -n "$lines" ] || return 1
	HIB_FAULT=$(cut -d' ' -f2- <<< "$lines" | paste -s -d';' - | sed 's/;/; /g')
	HIB_RIG=
	[ $rc = 0 ] && HIB_RIG=1
	return 0
}

# The guest command of a cycle unless HIB_CMD names another.
_HIB_ECHO_DISK='sync; echo disk > /sys/power/state; rc=$?; echo "@@RESUMED rc=$rc" > /dev/kmsg; echo "@@RESUMED rc=$rc"; exit $rc'

# dom_hibernate_and_restore NAME: echo disk in the guest (or HIB_CMD, a guest
# command that starts hibernation and ends after the resume, and HIB_PRESS,
# a dom0 command run once the guest printed @@ARMED; HIB_HOW says which for
# the log), wait for the domain to
# power off, create a NEW domain from the same config (resume from xvdb),
# wait for the resumed guest's agent.  Prints the new domid and sets DOM_ID
# (call it directly, not in $(...), to keep the HIB_* variables).  On failure sets
# HIB_FAIL to one of: send, press, no-poweroff, crashed, rebooted, triple-fault, no-image, while-off
# (the HIB_WHILE_OFF dom0 command failed), create, while-loading (the
# HIB_WHILE_LOADING function failed, _hib_while_loading), loader-oops, triple-fault-loading (the
# loader faulted after it read the image), oops-loading (an oops of the rig's
# after it read the image, the loader's or the restored kernel's),
# loader-faults (it faulted before,
# LAB_MAX_RETRIES times), no-resume (fresh boot), resume-timeout, same-domid,
# hibernate-rc-N (the guest command's status), and returns non-zero; HIB_FAULT and HIB_RIG describe a
# triple fault (_hib_fault).  Timeline in seconds: HIB_T_OFF from the
# request to the power-off, HIB_T_CREATED from the request to the xl create
# of the domain that resumed, HIB_T_RESUMED from that create to the resume.
dom_hibernate_and_restore() {
	local name=$1 old new id t0 t1 line ser0 rebooted=
	HIB_FAIL='' HIB_FAULT='' HIB_RIG=''
	old=$(dom_id "$name")
	dom_cursor "$name"
	ser0=$(stat -c %s "$LAB_RUN/serial.log" 2>/dev/null || echo 0)
	t0=$(_now)
	lab_log "$name: hibernate (${HIB_HOW:-echo disk}), domid $old"
	id=$(dom_send "$name" "${HIB_CMD:-$_HIB_ECHO_DISK}") ||
		{ HIB_FAIL=send; return 1; }
	if [ -n "${HIB_PRESS:-}" ]; then
		dom_wait_marker "$name" '@@ARMED' 120 >/dev/null &&
			dom0_run -t 60 "$HIB_PRESS" >/dev/null || { HIB_FAIL=press; return 1; }
	fi
	dom_wait_gone "$name" "${S4_OFF_TIMEOUT:-240}" >/dev/null
	case $? in
	0) ;;
	2) HIB_FAIL=crashed; lab_log "$name: domain crashed during hibernation"; return 1 ;;
	3) rebooted=1; DOM0_QUIET=1 dom_destroy "$name" ;;	# a triple fault, its state saved
	*) HIB_FAIL=no-poweroff; lab_log "$name: domain did not power off after echo disk"; return 1 ;;
	esac
	HIB_T_OFF=$(_since "$t0")
	# A triple fault "reboots" the domain: it ended without the power-off
	# that ends a hibernation, but may have come after the image was
	# written.
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
	elif [ -n "$rebooted" ]; then
		HIB_FAIL=rebooted
		lab_log "$name: domain $old rebooted instead of powering off, with no triple fault in Xen's log"
		return 1
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
	local attempt=0 rc
	while :; do
		_dom_start "$name" || { HIB_FAIL=create; return 1; }
		new=$DOM_ID
		if [ -n "${HIB_WHILE_LOADING:-}" ]; then
			_hib_while_loading "$name"
			# A fault before the loading line is the wait's below to name.
			[ $? = 1 ] && { HIB_FAIL=while-loading; return 1; }
		fi
		line=$(DOM_SERIAL_OFF=$DOM_START_SERIAL_OFF dom_wait_marker "$name" "@@E $id [0-9]+|@@READY" "${S4_RESUME_TIMEOUT:-240}")
		rc=$?
		[ $rc = 3 ] || [ $rc = 2 ] || break
		# The loading kernel triple-faulted, or oopsed in a way of the
		# rig's (rig_oopses).  While the image's signature
		# is still on xvdb, the loader never got as far as reading it
		# (swsusp_check() writes the swap signature back first thing):
		# nothing was lost, and a new domain can load the image as the
		# first one would have (a fresh boot of the same kernel, as at
		# create time).  Counted as a create retry.
		attempt=$((attempt + 1))
		HIB_FAULT='' HIB_RIG=''
		DOM0_QUIET=1 dom_destroy "$name"	# its state first, for _hib_fault
		if [ $rc = 2 ]; then
			HIB_FAULT=$(dom_boot_fault_rigs "$name" 2)
			if [ -z "$HIB_FAULT" ]; then
				HIB_FAIL=loader-oops
				lab_log "$name: domain $new panicked or oopsed loading or restoring the image"
				return 1
			fi
			HIB_RIG=1
			# After the image was read, the oops may be the restored
			# kernel's: only a frame no CPU writes is then the rig's
			# (an int3 over a patched byte could be a restore's
			# bug).  The cycle is lost, not what was synced
			# (hib_cycle repeats it).
			if ! _hib_image_pending "$name"; then
				HIB_FAIL=oops-loading
				rig_oopses_any_kernel <<< "$HIB_FAULT" || HIB_FAIL=loader-oops
				lab_log "$name: domain $new oopsed after it read the image ($HIB_FAIL): $HIB_FAULT"
				return 1
			fi
		else
			_hib_fault "$DOM_START_SERIAL_OFF" "$new" "$name" || HIB_FAULT="no triple fault of domain $new in Xen's log"
		fi
		if ! _hib_image_pending "$name"; then
			HIB_FAIL=triple-fault-loading
			lab_log "$name: domain $new triple-faulted loading the image: $HIB_FAULT"
			return 1
		fi
		echo "$(date -u +%T) $LAB_SCENARIO $name: loader $([ $rc = 2 ] && echo oops || echo triple fault) before reading the image ($HIB_FAULT)" >> "$LAB_RUN/retries"
		lab_log "$name: domain $new faulted before reading the image ($HIB_FAULT; retry $attempt/$LAB_MAX_RETRIES)"
		# The image is still there: a fresh boot would resume it, so this
		# is not a failure hib_cycle can repeat.
		[ $attempt -le "$LAB_MAX_RETRIES" ] || { HIB_FAIL=loader-faults; return 1; }
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
	# shellcheck disable=SC2034 # for the caller
	HIB_T_CREATED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	HIB_RC=${line##*@@E $id }
	HIB_RC=${HIB_RC%%[!0-9]*}
	lab_log "$name: resumed as domid $new after ${HIB_T_RESUMED}s (hibernate rc=$HIB_RC)"
	[ "$new" != "$old" ] || { HIB_FAIL=same-domid; return 1; }
	[ "$HIB_RC" = 0 ] || { HIB_FAIL="hibernate-rc-$HIB_RC"; return 1; }
	echo "$new"
}

# _hib_while_loading NAME: run the scenario's function HIB_WHILE_LOADING
# NAME with the new domain paused at its loading kernel's first "Image
# loading progress" line: that kernel has connected to the new domain's
# devices, and the image's kernel has not read them yet.  Returns 1 when the
# function, xl pause or xl unpause failed, dom_wait_marker's code when the
# line did not come.
_hib_while_loading() {
	local rc
	DOM_SERIAL_OFF=$DOM_START_SERIAL_OFF dom_wait_marker "$1" 'Image loading progress' 240 >/dev/null || return
	dom0_run -t 30 "xl pause $1" >/dev/null || return 1
	"$HIB_WHILE_LOADING" "$1"
	rc=$?
	dom0_run -t 30 "xl unpause $1" >/dev/null || return 1
	[ $rc = 0 ] || return 1
}

# _hib_boot_image NAME: boot NAME afresh from its disks with the image's
# configuration.  A scenario whose loader is started another way keeps the
# image's configuration in NAME.cfg.image and the loader's in NAME.cfg;
# the loader's is put back once the guest is up.
_hib_boot_image() {
	local cfg=$LAB_RUN/cfg/$1.cfg rc
	[ -f "$cfg.image" ] || { dom_boot "$1"; return; }
	cp "$cfg" "$cfg.loader" && cp "$cfg.image" "$cfg" || return 1
	dom_boot "$1"
	rc=$?
	mv "$cfg.loader" "$cfg" || return 1
	return $rc
}

# hib_cycle NAME [RECOVER]: dom_hibernate_and_restore, where a rig fault
# costs a repeat of the cycle, not the scenario.  A cycle that failed
# because a domain triple-faulted (HIB_FAIL triple-fault: the image was not
# written whole; triple-fault-loading: the loader had read it) or oopsed
# after the image was read (oops-loading), each fault with a signature of
# the rig's (lab/lib/faults.sh), lost the guest's memory
# but nothing it had synced to disk: HIB_UNDO_WHILE_OFF (a dom0 command)
# undoes what HIB_WHILE_OFF changed, NAME boots afresh from its disks
# (_hib_boot_image) into the world its image was taken in, RECOVER (a
# command evaluated in the scenario's shell) makes again what the
# scenario's later checks read in the guest's memory (files in /tmp, the
# vif's address, settings) and starts what it keeps running, and the
# cycle runs again.  At most LAB_MAX_CYCLE_REPEATS (3) per scenario, each a line in
# the run's retries and in the scenario's rig-repeats.  Any other failure
# returns non-zero with HIB_FAIL set, as dom_hibernate_and_restore does.
# LAB_REPEAT_CYCLES=1 repeats each cycle once after it passed, as if the
# rig had faulted then: a test of the scenario's RECOVER.
hib_cycle() {
	local name=$1 recover=${2:-:} repeat=${LAB_REPEAT_CYCLES:-}
	while :; do
		if dom_hibernate_and_restore "$name" >/dev/null; then
			[ -n "$repeat" ] || return 0
			repeat=
			# In rig-repeats, where scenarios see a repeat, but not in
			# the run's retries: no rig fault to absorb.
			echo "$(date -u +%T) $LAB_SCENARIO $name: cycle repeated after it passed (LAB_REPEAT_CYCLES)" >> "$LAB_SCEN_LOG/rig-repeats"
			lab_log "$name: the cycle passed; LAB_REPEAT_CYCLES: booting afresh from the disks, repeating it"
			_hib_boot_again "$name" "$recover" || return 1
			continue
		fi
		case $HIB_FAIL in triple-fault | triple-fault-loading | oops-loading) ;; *) return 1 ;; esac
		if [ -z "$HIB_RIG" ]; then
			HIB_FAIL="$HIB_FAIL ($HIB_FAULT: not a signature of the rig's)"
			return 1
		fi
		_hib_repeat_cycle "$name" "$recover" "$HIB_FAIL ($HIB_FAULT)" || return 1
	done
}

# _hib_repeat_cycle NAME RECOVER WHY: a fault of the rig's (WHY) cost the
# cycle: unless LAB_MAX_CYCLE_REPEATS are used up, a line in the scenario's
# rig-repeats and the run's retries, then _hib_boot_again.  Sets HIB_FAIL
# and returns 1 otherwise.
_hib_repeat_cycle() {
	local name=$1 recover=$2 why=$3 n
	n=$(cat "$LAB_SCEN_LOG/rig-repeats" 2>/dev/null | wc -l)
	if [ "$n" -ge "${LAB_MAX_CYCLE_REPEATS:-3}" ]; then
		HIB_FAIL="$why; $n cycles repeated already"
		return 1
	fi
	echo "$(date -u +%T) $LAB_SCENARIO $name: cycle repeated after $why" |
		tee -a "$LAB_SCEN_LOG/rig-repeats" >> "$LAB_RUN/retries"
	lab_log "$name: $why, with the rig's signature: booting afresh from the disks, repeating the cycle"
	_hib_boot_again "$name" "$recover"
}

# _hib_boot_again NAME RECOVER: NAME destroyed, what HIB_WHILE_OFF changed
# undone (HIB_UNDO_WHILE_OFF), NAME booted afresh from its disks, RECOVER
# run.  Sets HIB_FAIL and returns 1 when one of them fails.
_hib_boot_again() {
	local name=$1 recover=$2
	DOM0_QUIET=1 dom_destroy "$name"
	if [ -n "${HIB_UNDO_WHILE_OFF:-}" ] && ! dom0_run -t 60 "$HIB_UNDO_WHILE_OFF" >/dev/null; then
		HIB_FAIL="HIB_UNDO_WHILE_OFF failed in dom0 before a fresh boot"
		return 1
	fi
	_hib_boot_image "$name" || { HIB_FAIL="no fresh boot to repeat the cycle"; return 1; }
	eval "$recover" || { HIB_FAIL="after a fresh boot to repeat the cycle, '$recover' failed"; return 1; }
}

# hib_cycle_checked NAME RECOVER CHECK: hib_cycle, then CHECK (commands
# evaluated in a subshell, which end in `fail` when the restored guest is
# not as it should be).  A CHECK that failed because the restored domain
# met a fault of the rig's (it is gone, and each of its triple faults since
# the restore has a signature of the rig's, or it crashed with no triple
# fault and each oops it printed is the rig's) costs a repeat of the cycle, as in
# hib_cycle (_hib_repeat_cycle).  Any other failure of CHECK ends the
# scenario with CHECK's reason; one of the cycle returns non-zero with
# HIB_FAIL set.
hib_cycle_checked() {
	local name=$1 recover=$2 check=$3 id ser why
	while :; do
		hib_cycle "$name" "$recover" || return 1
		id=$DOM_ID ser=$DOM_START_SERIAL_OFF
		( eval "$check" ) && return 0
		dom_exists "$name" && exit 1
		DOM0_QUIET=1 dom_destroy "$name"	# its state first, for _hib_fault
		if _hib_fault "$ser" "$id" "$name"; then
			[ -n "$HIB_RIG" ] || exit 1
		else
			# No triple fault: a crash, the rig's when each oops
			# since the restored domain's creation is, of a kind
			# that is the rig's in any kernel.
			HIB_FAULT=$(dom_log "$name" | rig_oopses) && rig_oopses_any_kernel <<< "$HIB_FAULT" || exit 1
		fi
		why="the restored guest's fault $HIB_FAULT in its checks: $(head -n 1 "$LAB_SCEN_LOG/reason" 2>/dev/null)"
		rm -f "$LAB_SCEN_LOG/reason"
		_hib_repeat_cycle "$name" "$recover" "$why" || fail "$HIB_FAIL"
	done
}

# hib_must_abort NAME WHAT [METRIC [PRE]]: echo disk in the guest must fail
# and leave the same domain running.  WHAT says what must make it fail (for
# the messages), METRIC records the seconds the attempt took, PRE runs in
# the guest first.  Sets HIB_ABORT_OUT to the guest's output; fails the
# scenario otherwise (so call it directly, not in $(...)).
hib_must_abort() {
	local name=$1 what=$2 metric=${3:-} id out t took
	id=$(dom_id "$name")
	t=$(_now)
	out=$(dom_run "$name" "${4:-}
echo disk > /sys/power/state; echo \"echo disk rc=\$?\"" 240)
	took=$(_since "$t")
	lab_log "guest after ${took}s: $out"
	[ -z "$metric" ] || lab_metric "$metric" "$took"
	case $out in
	*"echo disk rc=0"*) fail "hibernation succeeded with $what" ;;
	*"echo disk rc="*) ;;
	*) fail "no answer from the guest after the aborted hibernation: $out" ;;
	esac
	[ "$(dom_id "$name")" = "$id" ] || fail "the domain changed: the guest did not stay up"
	# shellcheck disable=SC2034 # for the scenario
	HIB_ABORT_OUT=$out
}
