# HVM guests: the ACPI power button and its interrupt, a Xen physical IRQ.
# Part of the lab library (lab/lib/lab.sh).
# shellcheck shell=bash

# dom_sci_check NAME: press the HVM guest's ACPI power button (xl trigger)
# and wait for its ACPI interrupt (SCI) to be counted.  Xen delivers the SCI
# of an HVM guest as a physical IRQ bound to an event channel ("xen-pirq"
# in /proc/interrupts), which a hibernation hands from kernel to kernel.
# Prints "before -> after"; fails when the count does not move in 10 s.
dom_sci_check() {
	local name=$1 line before after
	line=$(_sci_line "$name")
	case $line in
	*xen-pirq*) ;;
	*) echo "no ACPI interrupt taken as a Xen physical IRQ: '$line'"; return 1 ;;
	esac
	before=$(_irq_total "$line")
	dom0_run -t 30 "xl trigger $name power" >/dev/null || { echo "xl trigger $name power failed"; return 1; }
	for _ in $(seq 1 20); do
		after=$(_irq_total "$(_sci_line "$name")")
		[ "${after:-0}" -gt "$before" ] && { echo "$before -> $after"; return 0; }
		sleep 0.5
	done
	echo "ACPI interrupt count stayed at $before after the power button"
	return 1
}
# The guest's /proc/interrupts line of the ACPI interrupt.
_sci_line() { dom_run "$1" 'grep -E " acpi$" /proc/interrupts' 30; }
# The sum of the per-CPU counts of a /proc/interrupts line.
_irq_total() { awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' <<< "$1"; }

# dom_pirq_check NAME: the event channels Xen has bound to physical IRQs
# for NAME's domain must be exactly the IRQs the guest started on them (its
# "xen-pirq" lines in /proc/interrupts): no channel for a GSI whose IRQ
# nothing requested.  Prints "xen X, guest G"; fails when they differ.
dom_pirq_check() {
	local name=$1 id xen guest
	id=$(dom_id "$name")
	xen=$(dom0_run -t 60 "xl debug-keys e > /dev/null && xl dmesg | awk '
		/Event channel information for domain / { ours = (\$NF == \"$id:\"); if (ours) n = 0; next }
		ours && / s=4 / { n++ }
		END { print n + 0 }'") || { echo "cannot read the event channels of domain $id"; return 1; }
	guest=$(dom_run "$name" 'grep -c xen-pirq /proc/interrupts' 30)
	echo "xen $xen, guest ${guest:-?}"
	[ "$xen" = "$guest" ]
}
