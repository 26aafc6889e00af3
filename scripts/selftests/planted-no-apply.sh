#!/usr/bin/env bash
# A patch whose context is not in the tree must fail "applies", naming it.
. "$(dirname "$0")/planted.sh"
dir=$(planted_patch no-apply drivers/xen/manage.c 's/^enum shutdown_state {/enum shutdown_state { \/* planted *\//') || exit 1
# Make it expect a line the tree does not have.
sed -i 's/^-enum shutdown_state {$/-enum shutdown_state_renamed {/' "$dir"/*.patch
expect_caught "check-series rejects a patch that does not apply" "$dir" "applies" "applies"
