#!/usr/bin/env bash
# Kernel style violations: checkpatch --strict must fail for the patch.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch checkpatch drivers/xen/manage.c \
	's/^\treturn READ_ONCE(shutting_down) == SHUTDOWN_SUSPEND;$/\tif(shutting_down==SHUTDOWN_SUSPEND) return true ;\n&/') || exit 1
expect_caught "check-series catches a checkpatch --strict violation" "$dir" "applies checkpatch" "checkpatch --strict"
