#!/usr/bin/env bash
# make kunit: the series' KUnit suites (drivers/xen/.kunitconfig) on x86_64
# under QEMU's TCG (KVM on these machines cannot run normal guests).
# Prints one TAP line per test case; exit status 1 if any failed or none ran.
# A run that passed is kept and replayed for the same base, series and tools
# (lib.sh, cached_tap).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if [ -z "${KUNIT_RUNNING:-}" ]; then
	# The tree is tested as it is: its results are kept only if it is the
	# series, with no edit that make export has not written back.
	keep=no
	if [ -z "${XH_REPLAY_ONLY:-}" ] && [ -d "$LINUX/.git" ] &&
		[ -z "$(git -C "$LINUX" status --porcelain --untracked-files=no)" ] && exported_unchanged; then
		keep=
	fi
	# shellcheck disable=SC2046 # one argument per file, none has a space
	XH_NO_KEEP=$keep cached_tap "kunit-$BASE" "$(inputs_key "$PIN" $(series_patches) "$0" \
		"$TOP/scripts/lib.sh" "$TOP/scripts/tree.sh")" env KUNIT_RUNNING=1 "$0"
	exit
fi

out=$BASE_BUILD/kunit
mkdir -p "$out" "$CCACHE_DIR"
export CCACHE_BASEDIR=$BUILD
cfg=$LINUX/drivers/xen/.kunitconfig
[ -f "$cfg" ] || { echo "not ok 1 - kunit: $cfg missing (is the series applied?)"; exit 1; }

rm -f "$out/results.json"
# The suites need none of ACPI, PV support, USB or KVM host support: leaving
# them out of the test kernel saves a third of its build.
trim=()
for c in ACPI XEN_PV USB_SUPPORT VIRTUALIZATION; do trim+=(--kconfig_add "CONFIG_$c=n"); done
# kunit.py of 7.x asks QEMU for KVM first (-accel kvm -accel hvf -accel
# tcg); this machine's nested KVM then stops the test kernel with "emulation
# failure" at a cmpxchg16b.  A QEMU first in PATH that drops those -accel
# options runs it under TCG, as kunit.py of 6.12 and the lab do.
qemu=$(command -v qemu-system-x86_64) || { echo "not ok 1 - kunit: no qemu-system-x86_64"; exit 1; }
mkdir -p "$out/tcg"
cat > "$out/tcg/qemu-system-x86_64" <<EOF
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
	if [ "\$1" = -accel ] && [ \$# -gt 1 ]; then shift 2; continue; fi
	args+=("\$1"); shift
done
exec "$qemu" -accel tcg "\${args[@]}"
EOF
chmod +x "$out/tcg/qemu-system-x86_64"
(cd "$LINUX" && PATH=$out/tcg:$PATH timeout 2700 python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig="$cfg" "${trim[@]}" --build_dir="$out" --jobs="$JOBS" --timeout=300 \
	--make_options CC="ccache gcc" --json="$out/results.json") > "$out/kunit.log" 2>&1
rc=$?

python3 - "$out/results.json" "$rc" <<'PY'
import json, sys
path, rc = sys.argv[1], int(sys.argv[2])
try:
    data = json.load(open(path))
except Exception as e:
    print("not ok 1 - kunit: no results (kunit.py exit %d): %s" % (rc, e))
    sys.exit(1)
n = bad = 0
for suite in data.get("sub_groups", []):
    for case in suite.get("test_cases", []):
        n += 1
        ok = case.get("status") == "PASS"
        bad += not ok
        print("%s %d - kunit %s.%s" % ("ok" if ok else "not ok", n, suite["name"], case["name"]))
        if not ok:
            for line in case.get("log", "").splitlines()[-15:]:
                print("#   " + line)
if n == 0:
    print("not ok 1 - kunit: no test case ran (kunit.py exit %d)" % rc)
    sys.exit(1)
sys.exit(1 if bad or rc else 0)
PY
st=$?
[ $st -eq 0 ] || tail -n 30 "$out/kunit.log" | sed 's/^/# /'
exit $st
