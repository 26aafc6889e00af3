# The lab library: what a scenario (lab/scenarios/<name>.sh) may use.
# Source it (". "$(dirname "$0")/../lib/lab.sh""); do not run it.
# shellcheck shell=bash
#
# The host runs QEMU (TCG), which runs Xen and a PV dom0; build/lab is
# shared into dom0 as /lab (9p).  dom0 serves shell snippets dropped in
# build/lab/run/ctl (lab/dom0/overlay/lab-agent); domUs serve commands typed
# on their PV console by dom0 (lab/guest/init), and their output comes back
# through xenconsoled's log files (build/lab/run/console/guest-<name>.log).
#
# A scenario calls lab_boot, drives dom0 and its guests with the functions
# below, and ends in one of three ways (lab/run-tests.sh turns them into
# TAP): exit 0, passed; skip REASON (exit 77); fail REASON (exit 1).  It
# must clean up through lab_on_exit, never with its own EXIT trap.
#
#   log.sh     lab_log, lab_metric, fail, skip, lab_on_exit
#   rig.sh     lab_boot, lab_shutdown, dom0_run, lab_tails
#   domu.sh    dom_create, dom_boot, dom_run, dom_send/dom_result,
#              dom_wait_marker, dom_destroy, dom_id, dom_exists,
#              dom_wait_gone, xenbus_connected; sets DOM_ID, DOM_READY_S
#   hib.sh     dom_hibernate_and_restore, hib_cycle, hib_cycle_checked,
#              hib_must_abort;
#              sets DOM_ID, HIB_FAIL, HIB_FAULT, HIB_T_OFF,
#              HIB_T_CREATED, HIB_T_RESUMED, HIB_RC
#   faults.sh  triple faults by signature, which of them are the rig's
#   data.sh    fio_write, fio_verify, fio_start, fio_status, fio_stop,
#              ext4_add_file, ext4_check_files, data_intact
#   net.sh     net_vif, net_up, net_stream_*, net_backend_*, net_ping_gap
#   hvm.sh     dom_sci_check
#   debian.sh  debian_build, debian_prepare, debian_create, debian_hib_cmd
#              (the Debian guest)
# Their settings (DOM_*, LAB_*, FIO_*) are in lab/README.md, "Settings".

# shellcheck disable=SC2034 # the settings are for the parts and the scenarios
_lab_lib=$(dirname "${BASH_SOURCE[0]}")
. "$_lab_lib/env.sh"

LAB_RUN=$LAB_BUILD/run
LAB_LOGS=${LAB_LOGS:-$LAB_BUILD/logs}
LAB_MEM=${LAB_MEM:-2048}
LAB_DOM0_TIMEOUT=${LAB_DOM0_TIMEOUT:-300}
LAB_MAX_RETRIES=${LAB_MAX_RETRIES:-3}
# The emulated machine Xen runs on (lab/README.md, "Rig faults").
LAB_QEMU=${LAB_QEMU:-qemu-system-x86_64}
LAB_QEMU_ACCEL=${LAB_QEMU_ACCEL:-tcg,thread=multi}
LAB_QEMU_CPU=${LAB_QEMU_CPU:-qemu64,+svm,+npt}
LAB_XEN_ARGS="bootscrub=false console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M noreboot loglvl=all guest_loglvl=all ${LAB_XEN_ARGS_EXTRA:-}"
LAB_DOM0_ARGS="console=hvc0 earlyprintk=xen loglevel=7"
# Scenario log directory (set by run-tests.sh; standalone runs get one too).
LAB_SCEN_LOG=${LAB_SCEN_LOG:-$LAB_LOGS/${LAB_SCENARIO:-adhoc}}
mkdir -p "$LAB_SCEN_LOG"

# Domain defaults (override per call through the environment).
DOM_TYPE=${DOM_TYPE:-pvh}
DOM_MEM=${DOM_MEM:-192}
DOM_DATA_MB=${DOM_DATA_MB:-256}
DOM_SWAP_MB=${DOM_SWAP_MB:-384}
DOM_EXT4_MB=${DOM_EXT4_MB:-64}
DOM_CMDLINE=${DOM_CMDLINE:-console=hvc0 resume=/dev/xvdb resumewait xen_hibernation no_console_suspend pm_debug_messages}
DOM_READY_TIMEOUT=${DOM_READY_TIMEOUT:-240}
DOM_RUN_TIMEOUT=${DOM_RUN_TIMEOUT:-120}
FIO_SIZE=${FIO_SIZE:-64M}

LAB_CRASH_RE='Dom0 crashed|Panic on CPU|Kernel panic'

for _f in log rig domu hib faults data net hvm debian; do
	# shellcheck source=/dev/null
	. "$_lab_lib/$_f.sh"
done
unset _f
