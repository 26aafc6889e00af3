# The lab's command agent, sourced by the guests' init (lab/guest/init) and
# by the Debian guest's lab-agent.service (lab/debian/overlay): it serves
# commands that dom0 types on the PV console (lab/lib/domu.sh: dom_run):
#   "@@C <id> <base64 script>"  ->  "@@O <id> <line>"...  "@@E <id> <rc>"
# The caller has pointed stdin and stdout at /dev/hvc0.
# shellcheck shell=sh

# Markers go to /dev/kmsg first: after a resume the tty may hang first.
mark() { echo "$*" > /dev/kmsg 2>/dev/null; echo "$*"; }

# The kernel's _text: names the guest's RIP in a triple fault's dump (lab/lib/faults.sh).
kernel_text() { awk '$3 == "_text" { print $1; exit }' /proc/kallsyms; }

ready_line() {
	echo "@@READY boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) disks=$(ls /sys/block | tr '\n' ,) uptime=$(cut -d' ' -f1 /proc/uptime) text=$(kernel_text)${1:+ $1}"
}

lab_agent_serve() {
	while :; do
		while read -r tag id b64; do
			[ "$tag" = "@@C" ] || continue
			echo "$b64" | base64 -d > /tmp/cmd.$id 2>/dev/null || { mark "@@E $id 126"; continue; }
			sh /tmp/cmd.$id > /tmp/out.$id 2>&1 < /dev/null
			rc=$?
			sed "s/^/@@O $id /" /tmp/out.$id
			mark "@@E $id $rc"
			rm -f /tmp/cmd.$id /tmp/out.$id
		done
		sleep 1
	done
}
