#!/usr/bin/env bash
# s4-debian-sleep-button: s4-debian as an HVM guest whose logind maps the
# ACPI sleep button to hibernation, as a cloud's hibernation agent sets it
# up; dom0 presses the button (xl trigger NAME sleep) and the guest
# hibernates, in the ACPI S4 platform mode systemd selects where the firmware
# offers it, and is restored on a new domain, with s4-debian's checks.
# lab-timeout-s: 1800
# lab-min-s: 900
. "$(dirname "$0")/../lib/lab.sh"
export DOM_TYPE=hvm DEBIAN_HOW=button DEBIAN_NAME=debian-hvm DEBIAN_VCPUS=${DEBIAN_VCPUS:-1}
exec bash "$(dirname "$0")/s4-debian.sh"
