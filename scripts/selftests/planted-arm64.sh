#!/usr/bin/env bash
# x86-only code in shared drivers/xen: builds for the x86 guest, breaks arm64.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch arm64-break drivers/xen/manage.c \
	's/^\treturn READ_ONCE(shutting_down) == SHUTDOWN_SUSPEND;$/\tif (boot_cpu_has(X86_FEATURE_XENPV))\n\t\treturn false;\n&/') || exit 1
expect_caught "check-series catches a patch that breaks the arm64 build" "$dir" "applies build arm64" "arm64 build"
