#!/usr/bin/env bash
# make mail: the series as ready-to-send sets, one per tree that would take
# it (patches/mail/NN-name.txt says which patches, the subject prefix, the
# title and the text of each cover letter), in build/mail/NN-name/.
#
# Each patch keeps its message and diff; its author and Signed-off-by become
# the sender's identity, from MAIL_FROM="Name <address>" or else git's
# user.name and user.email: patches/ carries the workbench's placeholder, and
# a mail must carry a real person's sign-off, never a made-up one.
# MAIL_VERSION=N (default 1) numbers the posting ([PATCH vN ...]); the text
# after a line "Changes in vN:" of the set's file goes below its cover
# letter's text; "Depends: set, set" names the sets it applies on (all of
# them, in the series' order); "Cc:" adds recipients.  To and Cc come from the tree's scripts/get_maintainer.pl
# for the files the set touches.  The sets are then checked (MAIL_CHECK=0
# skips it): each applies on the sets it names and passes check-series'
# checkpatch and wording checks.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SETS=$SERIES/mail
OUT=${OUT:-$BASE_BUILD/mail}
VERSION=${MAIL_VERSION:-1}
PLACEHOLDER='Xen hibernation workbench <workbench@localhost>'

git -C "$LINUX" rev-parse -q --verify base >/dev/null || die "no base in $LINUX; run 'make tree' first"
[[ $VERSION =~ ^[1-9][0-9]*$ ]] || die "MAIL_VERSION must be a number, not '$VERSION'"

sender() {
	local name email
	if [ -n "${MAIL_FROM:-}" ]; then
		printf '%s\n' "$MAIL_FROM"
		return
	fi
	name=$(git -C "$TOP" config user.name || true)
	email=$(git -C "$TOP" config user.email || true)
	[ -n "$name" ] && [ -n "$email" ] && printf '%s <%s>\n' "$name" "$email"
}
from=$(sender) ||
	die "no identity to send as: set MAIL_FROM=\"Name <address>\" or git config user.name and user.email"
[[ $from =~ ^[^\<\>]+\ \<[^@\ ]+@[^\>\ ]+\>$ ]] || die "'$from' is not of the form 'Name <address>'"
[ "$from" != "$PLACEHOLDER" ] && [[ $from != *@localhost\> ]] ||
	die "'$from' is the workbench's placeholder, not a person: set MAIL_FROM or git config user.name/user.email"

field() { sed -n "s/^$1: *//p;/^\$/q" "$2"; }	# field NAME SETFILE: a header line
text() { sed '1,/^$/d' "$1" | sed "/^Changes in v[0-9]*:/,\$d"; }	# the cover letter's text
changes() { sed -n "/^Changes in v$VERSION:/,\$p" "$1"; }

# The diffstats come from build/linux's commits: they must be patches/.
exported_unchanged || die "$LINUX and patches/ differ: run 'make export' or 'make tree' first"
mapfile -t series < <(series_patches)
mapfile -t commits < <(git -C "$LINUX" rev-list --reverse base..HEAD)
rm -rf "$OUT"
mkdir -p "$OUT"

prefix_of() { [ "$VERSION" = 1 ] && printf '%s' "$1" || printf '%s v%s' "$1" "$VERSION"; }
file_prefix() { [ "$VERSION" = 1 ] || printf 'v%s-' "$VERSION"; }

# One patch of patches/ as patch K of N of a set: the sender's identity,
# the set's subject prefix and numbering.
write_patch() {	# write_patch SRC DEST PREFIX K N
	local src=$1 dest=$2 prefix=$3 k=$4 n=$5
	awk -v from="$from" -v ph="$PLACEHOLDER" -v subj="[$prefix $k/$n]" '
		!body && $0 == "From: " ph { print "From: " from; next }
		!body && /^Subject: \[PATCH [0-9]+\/[0-9]+\]/ { sub(/^Subject: \[PATCH [0-9]+\/[0-9]+\]/, "Subject: " subj) }
		!body && /^$/ { body = 1 }
		$0 == "Signed-off-by: " ph { print "Signed-off-by: " from; next }
		{ print }' "$src" > "$dest"
	! grep -qF "$PLACEHOLDER" "$dest" || die "${dest##*/} still names the placeholder identity"
}

# get_maintainer.pl's people (To) or lists (Cc) for some patches, one line.
recipients() {	# recipients people|lists PATCH...
	local what=$1 opts
	shift
	opts=(--no-git --no-git-fallback --no-rolestats --no-multiline --separator ', ')
	case $what in
	people) opts+=(--no-l) ;;
	lists) opts+=(--no-m --no-r) ;;
	esac
	(cd "$LINUX" && ./scripts/get_maintainer.pl "${opts[@]}" "$@" 2>/dev/null) | head -n 1
}

add_recipients() {	# add_recipients FILE TO CC: after the From: line
	local f=$1 to=$2 cc=$3
	awk -v to="$to" -v cc="$cc" '
		!done && /^From: / { print; if (to != "") print "To: " to; if (cc != "") print "Cc: " cc; done = 1; next }
		{ print }' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
}

cover_letter() {	# cover_letter SETFILE DIR PREFIX N FIRST LAST DEPENDS
	local set=$1 dir=$2 prefix=$3 n=$4 first=$5 last=$6 depends=$7
	{
		echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
		echo "From: $from"
		echo "Subject: [$prefix 0/$n] $(field Subject "$set")"
		echo
		text "$set"
		if [ -n "$depends" ]; then
			echo
			echo "It applies on top of these sets, posted with it:$depends"
		fi
		echo
		echo "Based on Linux $(pin VERSION | sed 's/-.*//') (Debian's $(pin PACKAGE) $(pin VERSION))."
		if [ -n "$(changes "$set")" ]; then
			echo
			changes "$set"
		fi
		echo
		echo "${from%% <*} ($n):"
		git -C "$LINUX" log --reverse --format='      %s' "${commits[first - 1]}^..${commits[last - 1]}"
		echo
		git -C "$LINUX" diff --stat=72 --summary "${commits[first - 1]}^" "${commits[last - 1]}"
	} > "$dir/$(file_prefix)0000-cover-letter.patch"
}

# A commit of base with some sets applied, without a checkout: the start of
# the set that depends on them.
start_after() {	# start_after SETNAME...
	local idx=$OUT/.index commit=base name p tree
	for name; do
		for p in $(sed "s|^|$(echo "$OUT"/[0-9][0-9]-"$name")/|" "$OUT"/[0-9][0-9]-"$name"/series); do
			tree=$(GIT_INDEX_FILE=$idx git -C "$LINUX" read-tree "$commit" &&
				GIT_INDEX_FILE=$idx git -C "$LINUX" apply --cached "$p" &&
				GIT_INDEX_FILE=$idx git -C "$LINUX" write-tree) || return 1
			commit=$(git -C "$LINUX" commit-tree "$tree" -p "$commit" -m "${p##*/}") || return 1
		done
	done
	rm -f "$idx"
	printf '%s\n' "$commit"
}

check_sets() {	# check_sets DIR...: each applies on the sets it depends on and is clean
	local dir start rc=0 deps
	for dir; do
		echo "# ${dir##*/}"
		read -ra deps <<< "$(field Depends "$dir/set.txt" | tr ',' ' ')"
		start=$(start_after "${deps[@]}") ||
			{ echo "not ok - ${dir##*/}: the sets it depends on apply"; rc=1; continue; }
		PATCHES=$dir START=$start CHECKS="applies checkpatch wording" "$TOP/scripts/check-series.sh" || rc=1
	done
	return $rc
}

dirs=()
declare -A subject deps_of
next=1
for set in "$SETS"/[0-9]*.txt; do
	base=$(basename "$set" .txt)
	name=${base#[0-9][0-9]-}
	range=$(field Patches "$set")
	[[ $range =~ ^([0-9]+)(-([0-9]+))?$ ]] || die "${set##*/}: Patches must be N or N-M, not '$range'"
	first=${BASH_REMATCH[1]} last=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
	[ "$first" -eq "$next" ] && [ "$last" -ge "$first" ] && [ "$last" -le ${#series[@]} ] ||
		die "${set##*/}: Patches $range; the sets must take patches $next to ${#series[@]} in order"
	next=$((last + 1))
	prefix=$(prefix_of "$(field Prefix "$set")")
	n=$((last - first + 1))
	dir=$OUT/$base
	mkdir -p "$dir"
	cp "$set" "$dir/set.txt"
	: > "$dir/series"
	for ((i = first; i <= last; i++)); do
		src=${series[i - 1]}
		dest=$(file_prefix)$(printf '%04d' $((i - first + 1)))-$(basename "$src" | cut -c6-)
		write_patch "$src" "$dir/$dest" "$prefix" $((i - first + 1)) "$n"
		echo "$dest" >> "$dir/series"
	done
	depends='' mine=" $(field Depends "$set" | tr ',' ' ') "
	for d in $mine; do
		[ -n "${subject[$d]:-}" ] || die "${set##*/}: depends on '$d', which is not a set before it"
		for dd in ${deps_of[$d]}; do
			[[ $mine == *" $dd "* ]] || die "${set##*/}: depends on $d, which depends on $dd: name it too"
		done
		depends+=$'\n'"  ${subject[$d]}"
	done
	deps_of[$name]=$mine
	cover_letter "$set" "$dir" "$prefix" "$n" "$first" "$last" "$depends"
	mapfile -t files < <(sed "s|^|$dir/|" "$dir/series")
	to=$(recipients people "${files[@]}")
	cc=$(recipients lists "${files[@]}")
	extra=$(field Cc "$set")
	cc=${cc:+$cc${extra:+, }}$extra
	for f in "$dir"/*.patch; do add_recipients "$f" "$to" "$cc"; done
	say "$name: $n patches, [$prefix], To: ${to:-nobody}"
	subject[$name]="[$prefix 0/$n] $(field Subject "$set")"
	dirs+=("$dir")
done

[ "$next" -eq $((${#series[@]} + 1)) ] || die "patches $next to ${#series[@]} are in no set"
if [ "${MAIL_CHECK:-1}" != 0 ]; then
	check_sets "${dirs[@]}" || die "a set failed its checks (see above)"
fi
say "wrote ${#dirs[@]} sets to $OUT; send each, in order, with git send-email $OUT/<set>/*.patch"
say "they are on $(pin PACKAGE) $(pin VERSION): each tree wants them on its own head"
