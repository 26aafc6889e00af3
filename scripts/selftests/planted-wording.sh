#!/usr/bin/env bash
# Words of the test set-up in the kernel: the wording check must fail.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch wording drivers/xen/manage.c \
	's|^\treturn READ_ONCE(shutting_down) == SHUTDOWN_SUSPEND;$|\t/* s4-xen-suspend in the lab checks this. */\n&|') || exit 1
expect_caught "check-series catches lab wording in a patch" "$dir" "wording" "speaks to upstream"
