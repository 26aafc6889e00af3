#!/usr/bin/env bash
# make check-series: the kernel hygiene of every patch, one TAP line per check.
#
# Works in its own git worktree of build/linux (build/check/linux), so the
# developer's tree is never touched.  For each patch of PATCHES (default
# patches/), in order:
#   applies      git am
#   build        the directories the series works in, and those of the files
#                the patch touches, compile with the guest config (the full
#                link of the series is "make kernel", a stage of "make check")
#   w1           no W=1 warning in the touched C files that base did not have
#   sparse       no sparse (C=2) warning in them that base did not have
#   checkpatch   checkpatch --strict is clean, or each type reported is
#                justified for that patch in scripts/checkpatch-notes
#   kerneldoc    scripts/kernel-doc -none reports nothing new in touched files
#   wording      the commit message and the added lines speak to upstream:
#                no test lab, rig, scenario or workbench, no scenario name
# Then for the whole series:
#   arm64        touched drivers/xen, xen-blkfront and xen-netfront objects,
#                arm64 cross gcc
#   clang        touched objects of the guest config with LLVM=1 (LLVM=-19 where the
#                tree needs a newer clang)
#   variants     guest config with HIBERNATION=n, with both frontends as
#                modules (XEN_BLKDEV_FRONTEND=m, XEN_NETDEV_FRONTEND=m);
#                arm64 with PM_SLEEP=n (x86 Xen selects PM_SLEEP, see README)
# CHECKS= limits the run to some of these names and START= applies the
# patches on another commit than base (the planted-defect tests use both to
# stay fast); KMAKE= is the make that collects W=1 and sparse warnings.
# The results of a full run (the whole series, every check) that passed are
# kept and replayed for the same inputs (lib.sh, cached_tap): the patches
# are still applied, for the planted-defect tests that start from them.
# Exit status is 1 if any check failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

PATCHES=${PATCHES:-$SERIES}
ALL_CHECKS="applies build w1 sparse checkpatch kerneldoc wording arm64 clang variants"
CHECKS=${CHECKS:-$ALL_CHECKS}
KMAKE=${KMAKE:-make}	# the make that collects warnings (a self-test replaces it)
incomplete=	# flags (W=1, C=2) whose warnings at base could not be collected
NOTES=${NOTES:-$TOP/scripts/checkpatch-notes}
CK=$BASE_BUILD/check
WT=$CK/linux
LOGS=$CK/logs
export CCACHE_BASEDIR=$BUILD

n=0
failed=0
want() { case " $CHECKS " in *" $1 "*) return 0 ;; esac; return 1; }
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | head -n 30 | sed 's/^/#   /'
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

patch_list() { series_patches "$PATCHES"; }

# Files a patch touches (new names), from its diff headers.
touched_files() { grep -E '^\+\+\+ b/' "$1" | sed 's|^+++ b/||' | sort -u; }

# Warnings of a build log, without line and column numbers, so that moved
# code does not count as new.
warnings_of() {
	grep -E '(warning|error):' "$1" 2>/dev/null |
		sed -E "s|^$WT/||; s|^([^:]+):[0-9]+:[0-9]+:|\1:|; s|^([^:]+):[0-9]+:|\1:|" | sort
}

# Lines of $2 that $1 does not have (multiset difference).
new_lines() { comm -13 <(sort "$1") <(sort "$2"); }

setup_worktree() {
	git -C "$LINUX" rev-parse -q --verify base >/dev/null || die "no base in $LINUX; run 'make tree'"
	if [ ! -d "$WT/.git" ] && [ ! -f "$WT/.git" ]; then
		rm -rf "$WT"
		git -C "$LINUX" worktree prune
		git -C "$LINUX" worktree add -q --detach "$WT" base || die "cannot create worktree $WT"
	fi
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	git -C "$WT" checkout -q -f --detach "${START:-base}" || die "cannot check out ${START:-base}"
	git -C "$WT" clean -q -fdx
	git -C "$WT" config user.name "Xen hibernation workbench"
	git -C "$WT" config user.email "workbench@localhost"
	mkdir -p "$LOGS"
}


# Where the series' code and the users of the headers it changes live, plus
# the directories of the given files: what a patch must keep compiling.
SERIES_DIRS="arch/x86/xen/ drivers/xen/ drivers/xen/xenbus/ drivers/xen/events/ drivers/block/ drivers/net/ drivers/tty/hvc/"
build_dir_list() {
	{ printf '%s\n' $SERIES_DIRS
	  printf '%s\n' "$@" | grep -E '^(arch|drivers|kernel|block|fs|mm|net|lib)/.*\.c$' | xargs -r -n1 dirname | sed 's|$|/|'
	} | sort -u
}
build_dirs() {
	local dirs
	mapfile -t dirs < <(build_dir_list "$@")
	build_objects guest "$TOP/kernel/configs/xen-guest.config" "${dirs[@]}"
}

# Objects of the guest config compiled from the touched C files that exist
# now (an object left by an earlier run of a file a later patch adds has no
# source at base: make has no rule for it).
touched_objects() {	# touched_objects OBJDIR FILE...
	local obj=$1 f
	shift
	for f in "$@"; do
		case "$f" in *.c) ;; *) continue ;; esac
		[ -f "$WT/$f" ] && [ -f "$obj/${f%.c}.o" ] && printf '%s\n' "${f%.c}.o"
	done
}

# Warnings from compiling objects again with extra make flags (W=1, C=2).
# The objects are removed first: a compiler warning shows only when its object
# is compiled.  One job: kbuild reaches the objects of a directory that the top
# Makefile lists (arch/x86/power/) from two places, and two jobs compiling the
# same object race on its dependency file.  make keeps going past an object it
# cannot build, so that one failure hides no other object's warnings; the
# status says whether the list is complete.
object_warnings() {	# object_warnings OBJDIR OUT FLAGS OBJ...
	local obj=$1 out=$2 flags=$3 rc o
	shift 3
	: > "$out.log"
	[ $# -gt 0 ] || { : > "$out"; return 0; }
	for o; do rm -f "${obj:?}/$o"; done
	# shellcheck disable=SC2086
	"$KMAKE" -k -j1 -C "$WT" O="$obj" CC="ccache gcc" $flags "$@" > "$out.log" 2>&1
	rc=$?
	warnings_of "$out.log" > "$out"
	return $rc
}

# object_warnings for the guest objects, run a second time if make failed:
# an incomplete list at base would make every warning it missed look new in
# a later patch.  A failure is shown, with make's first errors, either way.
guest_warnings() {	# guest_warnings OUT FLAGS OBJ...
	local out=$1 flags=$2 try
	shift 2
	for try in 1 2; do
		object_warnings "$CK/obj/guest" "$out" "$flags" "$@" && return 0
		echo "# make $flags failed (try $try of 2), ${out##*/}.log:"
		grep -E '^make(\[[0-9]+\])?: \*\*\*|error:|Killed|Terminated' "$out.log" | head -n 5 | sed 's/^/#   /'
	done
	return 1
}

# Warnings at base for every C file the series touches, once per run.
base_warnings() {
	local files objs
	mapfile -t files < <(patch_list | while read -r p; do touched_files "$p"; done | sort -u)
	mapfile -t objs < <(touched_objects "$CK/obj/guest" "${files[@]}")
	if want w1 && ! guest_warnings "$LOGS/base.w1" "W=1" "${objs[@]}"; then
		notok "base: W=1 warnings of ${#objs[@]} objects collected"
		incomplete="$incomplete W=1"
	fi
	if want sparse && ! guest_warnings "$LOGS/base.sparse" "C=2" "${objs[@]}"; then
		notok "base: sparse warnings of ${#objs[@]} objects collected"
		incomplete="$incomplete C=2"
	fi
	kdoc_warnings "${files[@]}" > "$LOGS/base.kdoc"
}

# kernel-doc's warnings for the C files and headers among FILEs that exist,
# without line numbers ("file:12: warning" before 6.x's Python kernel-doc,
# "Warning: file:12 text" since), so that moved code does not count as new.
kdoc_warnings() {	# kdoc_warnings FILE...
	local f
	for f; do
		case "$f" in *.c|*.h) ;; *) continue ;; esac
		[ -f "$WT/$f" ] || continue
		"$WT/scripts/kernel-doc" -none "$WT/$f" 2>&1 |
			sed -E "s|$WT/||; s|:[0-9]+:|:|; s|^(Warning: [^ ]+):[0-9]+ |\1 |"
	done
}

# checkpatch types reported for a patch that scripts/checkpatch-notes does
# not justify.  Notes lines: <patch file glob> <TYPE> <justification>.
unjustified_checkpatch() {	# unjustified_checkpatch PATCH OUT
	local p=$1 out=$2 name type glob t why ok_
	name=${p##*/}
	(cd "$WT" && ./scripts/checkpatch.pl --strict --show-types --terse --no-summary "$p") > "$out.log" 2>&1
	: > "$out"
	while IFS= read -r line; do
		type=$(printf '%s\n' "$line" | sed -nE 's/.*(WARNING|ERROR|CHECK):([A-Z0-9_]+):.*/\2/p')
		[ -n "$type" ] || continue
		ok_=
		if [ -f "$NOTES" ]; then
			while read -r glob t why; do
				case "$glob" in ''|'#'*) continue ;; esac
				# shellcheck disable=SC2254
				case "$name" in $glob) [ "$t" = "$type" ] && [ -n "$why" ] && ok_=1 ;; esac
			done < "$NOTES"
		fi
		[ -n "$ok_" ] || printf '%s\n' "$line" >> "$out"
	done < "$out.log"
}

# Lines of a patch's message and of the code it adds that speak of how the
# series was developed rather than of the kernel: a reviewer upstream has no
# lab, and a scenario name means nothing to them.  The identity lines are
# left out (make mail sets them).
LAB_WORDS='\b(lab|labs|rig|scenarios?|workbench|make check)\b|\bs4-[a-z]|so that (the )?tests? can'
lab_wording() {	# lab_wording PATCH
	awk '/^---$/ && !done { done = 1; next }
		!done && NR > 1 && !/^(From|Date|Subject|Signed-off-by):/ { print "message: " $0; next }
		done && /^\+/ && !/^\+\+\+ / { print "added: " substr($0, 2) }' "$1" |
		grep -iE "$LAB_WORDS"
}

check_patch() {	# check_patch PATCH
	local p=$1 name files objs f
	name=${p##*/}
	name=${name%.patch}

	if want applies || want build; then
		if ! out=$(git -C "$WT" am --keep-cr "$p" 2>&1); then
			git -C "$WT" am --abort >/dev/null 2>&1
			notok "$name: applies" "$(printf '%s\n' "$out" | grep -E '^(error|Patch failed)' || printf '%s\n' "$out")"
			return 1
		fi
		ok "$name: applies"
	fi
	mapfile -t files < <(touched_files "$p")

	if want build; then
		if build_dirs "${files[@]}"; then
			ok "$name: builds (guest config: $(build_dir_list "${files[@]}" | tr '\n' ' '))"
		else
			notok "$name: builds (guest config)" "$(cat "$LOGS/guest.warnings" "$LOGS/guest.err" 2>/dev/null | tail -n 20)"
			return 1
		fi
	fi
	mapfile -t objs < <(touched_objects "$CK/obj/guest" "${files[@]}")

	if want w1; then
		if [[ $incomplete == *W=1* ]]; then
			skip "$name: no new W=1 warnings" "base's list is incomplete (see above)"
		elif ! guest_warnings "$LOGS/$name.w1" "W=1" "${objs[@]}"; then
			notok "$name: W=1 warnings collected" "$(tail -n 20 "$LOGS/$name.w1.log")"
		elif new=$(new_lines "$LOGS/base.w1" "$LOGS/$name.w1"); [ -z "$new" ]; then ok "$name: no new W=1 warnings (${#objs[@]} objects)"
		else notok "$name: no new W=1 warnings" "$new"; fi
	fi
	if want sparse; then
		if [[ $incomplete == *C=2* ]]; then
			skip "$name: no new sparse warnings" "base's list is incomplete (see above)"
		elif ! guest_warnings "$LOGS/$name.sparse" "C=2" "${objs[@]}"; then
			notok "$name: sparse warnings collected" "$(tail -n 20 "$LOGS/$name.sparse.log")"
		elif new=$(new_lines "$LOGS/base.sparse" "$LOGS/$name.sparse"); [ -z "$new" ]; then ok "$name: no new sparse warnings"
		else notok "$name: no new sparse warnings" "$new"; fi
	fi
	if want checkpatch; then
		unjustified_checkpatch "$p" "$LOGS/$name.checkpatch"
		if [ ! -s "$LOGS/$name.checkpatch" ]; then ok "$name: checkpatch --strict"
		else notok "$name: checkpatch --strict" "$(cat "$LOGS/$name.checkpatch")"; fi
	fi
	if want kerneldoc; then
		kdoc_warnings "${files[@]}" > "$LOGS/$name.kdoc"
		new=$(new_lines "$LOGS/base.kdoc" "$LOGS/$name.kdoc")
		if [ -z "$new" ]; then ok "$name: kernel-doc"
		else notok "$name: kernel-doc" "$new"; fi
	fi
	if want wording; then
		if new=$(lab_wording "$p"); then notok "$name: speaks to upstream" "$new"
		else ok "$name: speaks to upstream"; fi
	fi
	return 0
}

# Build some objects of a config: cross, clang and PM_SLEEP=n checks.
build_objects() {	# build_objects NAME CONFIGS-FRAGMENT OBJ... (env: ARCH CROSS_COMPILE LLVM)
	local name=$1 frag=$2
	shift 2
	[ $# -gt 0 ] || return 0
	LINUX=$WT OBJ=$CK/obj/$name CONFIGS=$frag TARGETS="$*" \
		"$TOP/scripts/kernel.sh" "$name" 2>"$LOGS/$name.err" ||
		return 1
	# No warnings at all in the objects the series touches.
	! grep -E 'warning:|error:' "$CK/obj/$name/build.log" > "$LOGS/$name.warnings"
}

# tree_llvm: LLVM= for the tree: 1 (Debian's default clang) when that is as
# new as the tree's scripts/min-tool-version.sh asks (6.12: 13.0.1), -19
# (Debian 12's clang-19) otherwise (7.3: 17.0.1).
tree_llvm() {
	local need have
	need=$("$WT/scripts/min-tool-version.sh" llvm)
	have=$(clang -dumpversion)
	if [ "$(printf '%s\n' "$need" "$have" | sort -V | head -n 1)" = "$need" ]; then
		echo 1
	else
		echo -19
	fi
}

series_checks() {
	local all x86 arm at llvm
	at="series at $(patch_list | tail -n 1 | sed 's|.*/||; s|\.patch$||')"
	mapfile -t all < <(patch_list | while read -r p; do touched_files "$p"; done | sort -u | grep '\.c$')
	# Directories of the touched C files: building a directory builds what
	# the config enables there, so a file a variant leaves out is no error.
	mapfile -t x86 < <(printf '%s\n' "${all[@]}" | xargs -r -n1 dirname | sort -u | sed 's|$|/|')
	# Shared code: everything but arch/.
	mapfile -t arm < <(printf '%s\n' "${x86[@]}" | grep -v '^arch/')
	if want arm64; then
		if ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- build_objects arm64 \
			"$TOP/kernel/configs/arm64-xen.config" "${arm[@]}"; then
			ok "$at: arm64 build of ${arm[*]}, no warnings"
		else
			notok "$at: arm64 build of touched objects" "$(cat "$LOGS/arm64.warnings" "$LOGS/arm64.err" 2>/dev/null | tail -n 20)"
		fi
	fi
	if want clang; then
		llvm=$(tree_llvm)
		if LLVM=$llvm build_objects clang "$TOP/kernel/configs/xen-guest.config" "${x86[@]}"; then
			ok "$at: clang (LLVM=$llvm) build of ${x86[*]}, no warnings"
		else
			notok "$at: clang (LLVM=$llvm) build of touched objects" "$(cat "$LOGS/clang.warnings" "$LOGS/clang.err" 2>/dev/null | tail -n 20)"
		fi
	fi
	if want variants; then
		# Compile every object the series touches in each variant: that is
		# where an #ifdef can go wrong.  Full links would cost a whole kernel
		# build each, for code the series does not change.
		if build_objects nohib <(cat "$TOP/kernel/configs/xen-guest.config"; echo '# CONFIG_HIBERNATION is not set') \
			"${x86[@]}"; then
			ok "$at: guest config with HIBERNATION=n builds the touched directories"
		else
			notok "$at: guest config with HIBERNATION=n builds the touched directories" "$(cat "$LOGS/nohib.warnings" "$LOGS/nohib.err" 2>/dev/null | tail -n 20)"
		fi
		# Modules: module_init/module_exit and the PM notifier paths.
		if build_objects frontm <(cat "$TOP/kernel/configs/xen-guest.config"
			printf '%s\n' CONFIG_MODULES=y CONFIG_XEN_BLKDEV_FRONTEND=m CONFIG_XEN_NETDEV_FRONTEND=m) \
			modules_prepare drivers/block/xen-blkfront.o drivers/net/xen-netfront.o; then
			ok "$at: guest config with XEN_BLKDEV_FRONTEND=m XEN_NETDEV_FRONTEND=m builds both frontends"
		else
			notok "$at: guest config with XEN_BLKDEV_FRONTEND=m XEN_NETDEV_FRONTEND=m builds both frontends" "$(cat "$LOGS/frontm.warnings" "$LOGS/frontm.err" 2>/dev/null | tail -n 20)"
		fi
		if ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- build_objects arm64-nosleep \
			<(cat "$TOP/kernel/configs/arm64-xen.config"; printf '%s\n' '# CONFIG_SUSPEND is not set' '# CONFIG_HIBERNATION is not set') \
			"${arm[@]}"; then
			ok "$at: PM_SLEEP=n (arm64, SUSPEND=n HIBERNATION=n) builds the touched directories"
		else
			notok "$at: PM_SLEEP=n build" "$(cat "$LOGS/arm64-nosleep.warnings" "$LOGS/arm64-nosleep.err" 2>/dev/null | tail -n 20)"
		fi
	fi
}

# checkpatch asks scripts/spdxcheck.py about each SPDX tag a patch adds and
# takes its silence for a valid tag, silence from a crash (a python3
# without ply) included: make sure it flags an invalid tag first.
spdx_check_runs() {
	local out
	out=$(cd "$WT" && printf '// SPDX-License-Identifier: No-such-license\n' | ./scripts/spdxcheck.py - 2>&1)
	case $out in *"Invalid License ID"*) return 0 ;; esac
	printf '%s\n' "${out:-(no output)}" | tail -n 5
	return 1
}

run_checks() {
	local p patches out
	echo "TAP version 13"
	setup_worktree
	if want checkpatch; then
		if out=$(spdx_check_runs); then
			ok "base: checkpatch's SPDX check flags an invalid tag"
		else
			notok "base: checkpatch's SPDX check flags an invalid tag" "$out"
			echo "1..$n"
			return 1
		fi
	fi
	# Set again only once this series has passed its per-patch checks.
	[ "$PATCHES" != "$SERIES" ] || git -C "$WT" update-ref -d refs/check/series 2>/dev/null
	mapfile -t patches < <(patch_list)
	if want build || want w1 || want sparse; then
		# shellcheck disable=SC2046 # one argument per file, none has a space
		if ! build_dirs $(patch_list | while read -r p; do touched_files "$p"; done | sort -u); then
			notok "base: builds (guest config)" "$(cat "$LOGS/guest.warnings" "$LOGS/guest.err" 2>/dev/null | tail -n 20)"
			echo "1..$n"
			return 1
		fi
	fi
	base_warnings
	for p in "${patches[@]}"; do
		check_patch "$p" || break
	done
	if [ "$failed" -eq 0 ]; then
		# The planted-defect tests start from here.
		[ "$PATCHES" = "$SERIES" ] && git -C "$WT" update-ref refs/check/series HEAD
		series_checks
	fi
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

# What a full run's results depend on: the base, the patches, these scripts,
# the configs and (inputs_key) the tools.
series_key() {
	# shellcheck disable=SC2046 # one argument per file, none has a space
	inputs_key "$PIN" $(patch_list) "$TOP/scripts/check-series.sh" "$TOP/scripts/kernel.sh" \
		"$TOP/scripts/lib.sh" "$NOTES" "$TOP"/kernel/configs/*.config
}

# The series applied in the worktree as a full run leaves it, for a run
# whose results were replayed.
apply_for_planted() {
	local p
	setup_worktree
	git -C "$WT" update-ref -d refs/check/series 2>/dev/null
	while read -r p; do
		git -C "$WT" am --keep-cr "$p" >/dev/null 2>&1 || {
			git -C "$WT" am --abort >/dev/null 2>&1
			echo "# ${p##*/} did not apply: the planted-defect tests cannot start from the series"
			return 0
		}
	done < <(patch_list)
	git -C "$WT" update-ref refs/check/series HEAD
}

main() {
	if [ "$PATCHES" = "$SERIES" ] && [ -z "${START:-}" ] && [ "$CHECKS" = "$ALL_CHECKS" ] && [ "$KMAKE" = make ]; then
		local key replay=
		key=$(series_key)
		tap_kept "series-$BASE" "$key" && replay=1
		cached_tap "series-$BASE" "$key" run_checks || return $?
		# The planted-defect tests (primary base) start from the series.
		[ -z "$replay" ] || [ "$BASE" != "$PRIMARY_BASE" ] || apply_for_planted
		return 0
	fi
	run_checks
}

main "$@"
