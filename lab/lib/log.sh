# Scenario results and step log: lab_log, fail, skip, lab_metric.
# Part of the lab library (lab/lib/lab.sh); source that, not this.
# shellcheck shell=bash

# Timestamped step, to stderr and the scenario's steps.log / timeline.
lab_log() {
	local t; t=$(date -u +%H:%M:%S.%3N)
	printf '%s %s\n' "$t" "$*" >> "$LAB_SCEN_LOG/steps.log"
	printf '# %s %s\n' "$t" "$*" >&2
}
_now() { date +%s.%N; }
# Seconds (1 decimal) since a _now value.
_since() { awk -v a="$1" -v b="$(_now)" 'BEGIN { printf "%.1f", b - a }'; }

# fail REASON: the scenario failed (reason goes to the TAP line for TODO tests).
fail() {
	local why
	# Keep the lower layer's more precise reason (dom_create's, say).
	why=$(head -n 1 "$LAB_SCEN_LOG/reason" 2>/dev/null)
	printf '%s\n' "$*${why:+ ($why)}" > "$LAB_SCEN_LOG/reason"
	lab_log "FAIL: $*"
	exit 1
}
# skip REASON: TAP skip.
skip() {
	printf '%s\n' "$*" > "$LAB_SCEN_LOG/skip"
	lab_log "SKIP: $*"
	exit 77
}
# Record a measurement "key value" for the summary in lab/README.md.
lab_metric() { printf '%s %s\n' "$1" "$2" >> "$LAB_SCEN_LOG/metrics"; lab_log "metric $1=$2"; }

# lab_on_exit 'command': run it when the script exits, whatever the outcome.
# Hooks run last registered first; the library registers the lab's
# shutdown before a scenario can register anything, so it runs last.
_lab_exit_hooks=()
lab_on_exit() {
	_lab_exit_hooks+=("$1")
	trap _lab_run_exit_hooks EXIT
}
_lab_run_exit_hooks() {
	local i
	for ((i = ${#_lab_exit_hooks[@]} - 1; i >= 0; i--)); do
		eval "${_lab_exit_hooks[i]}" || true
	done
}
