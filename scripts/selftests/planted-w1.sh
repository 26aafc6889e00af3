#!/usr/bin/env bash
# A variable set but never used warns only with W=1: "no new W=1 warnings" must fail.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch w1-warning drivers/xen/manage.c \
	's/^bool xen_suspend_in_progress(void)$/&\n{\n\tint planted;\n\n\tplanted = 1;\n\treturn READ_ONCE(shutting_down) == SHUTDOWN_SUSPEND;\n}\n\nstatic bool __maybe_unused planted_unused(void)/') || exit 1
expect_caught "check-series catches a new W=1 warning" "$dir" "applies build w1" "no new W=1 warnings"
