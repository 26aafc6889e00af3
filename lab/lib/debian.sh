# The Debian guest: a stock Debian 12 root (lab/debian/build.sh) with the
# series' kernel packages (make deb), booted from the kernel and initramfs
# that dpkg installed, hibernating the way its users do it.  Part of the lab
# library (lab/lib/lab.sh).
# shellcheck shell=bash

# Where build.sh puts the guest (another directory under images/ for a
# second kernel's guest); dom0 sees it as /lab/images/<dir>.
DEBIAN_IMAGES=${DEBIAN_IMAGES:-$LAB_BUILD/images/debian}
export DEBIAN_IMAGES
# Its disks: xvda the root (with /swapfile), xvdb a data disk for fio.
DEBIAN_DISKS="xvda root.img
xvdb data.img"

# debian_build [DEB...]: the Debian disk with these kernel packages (default:
# make deb's, build/deb/linux-image-*.deb); skips the scenario when there are
# none.  Before lab_boot: it builds on the host.
debian_build() {
	local debs=("$@")
	[ ${#debs[@]} -gt 0 ] || debs=("$BUILD"/deb/linux-image-*.deb)
	[ -f "${debs[0]}" ] || skip "no Debian kernel packages in $BUILD/deb: run make deb"
	"$LAB_DIR/debian/build.sh" "${debs[@]}" > /dev/null || fail "building the Debian guest failed"
}

# debian_stock_deb: Debian's own cloud kernel image of the 6.12 base (Debian
# 12's linux-6.12, one package; Debian splits the image of 7.x in three),
# downloaded once into XH_CACHE; prints its path.
debian_stock_deb() {
	local version pkg
	version=$(sed -n 's/^VERSION=//p' "$LAB_TOP/kernel/bases/6.12.pin")
	pkg=linux-image-${version%%-*}+deb12-cloud-amd64-unsigned
	mkdir -p "$XH_CACHE/dl"
	[ -f "$XH_CACHE/dl/${pkg}_${version}_amd64.deb" ] ||
		(cd "$XH_CACHE/dl" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) ||
		lab_die "cannot download $pkg=$version"
	echo "$XH_CACHE/dl/${pkg}_${version}_amd64.deb"
}

# debian_prepare: the Debian disk in dom0's /scratch/img (copied once per
# disk), and the settings the other helpers and the hibernation cycle need
# for this guest: the data disk for fio, a directory on the root for
# checksummed files, the vif's name, where the image's header lies.
debian_prepare() {
	local offset d=${DEBIAN_IMAGES##*/}
	[ "$DEBIAN_IMAGES" = "$LAB_BUILD/images/$d" ] && [ -n "$d" ] ||
		fail "DEBIAN_IMAGES must be a directory of $LAB_BUILD/images, not '$DEBIAN_IMAGES'"
	dom0_run -t 600 "want=\$(cat /lab/images/$d/key)
[ \"\$(cat /scratch/img/$d/key 2>/dev/null)\" = \"\$want\" ] && exit 0
mkdir -p /scratch/img/$d && cd /lab/images/$d &&
	cp --sparse=always root.img vmlinuz initrd.img /scratch/img/$d/ && cp key /scratch/img/$d/key" > /dev/null ||
		fail "cannot copy the Debian guest to dom0"
	offset=$(sed -n 's/.*resume_offset=\([0-9]*\).*/\1/p' "$DEBIAN_IMAGES/cmdline")
	# shellcheck disable=SC2034 # for data.sh, net.sh, hib.sh (EXT4_DIR: made by build.sh)
	FIO_DEV=/dev/xvdb EXT4_DIR=/var/lib/lab NET_IF=enX0 NET_NC="busybox nc" NET_PING="busybox ping"
	[ -n "$offset" ] || fail "no resume_offset in $DEBIAN_IMAGES/cmdline"
	# shellcheck disable=SC2034
	HIB_IMAGE="root.img $((offset * 4096))"
	# A systemd boot (about 2 minutes here, twice that as HVM) and a larger
	# image than the lab guest's: for every create, boot and cycle.
	# shellcheck disable=SC2034
	DOM_MEM=${DEBIAN_MEM:-384} DOM_READY_TIMEOUT=${DEBIAN_READY_TIMEOUT:-600}
	S4_OFF_TIMEOUT=${S4_OFF_TIMEOUT:-600} S4_RESUME_TIMEOUT=${S4_RESUME_TIMEOUT:-600}
	lab_log "Debian guest: kernel $(cat "$DEBIAN_IMAGES/kver"), $(cat "$DEBIAN_IMAGES/cmdline")"
}

# debian_create NAME [VCPUS] [extra xl cfg lines...]: a new Debian guest on
# a fresh copy of the disk, up when systemd has finished booting (its agent
# says @@READY then).  Its faults are named from its own kernel's symbols.
debian_create() {
	local img=/scratch/img/${DEBIAN_IMAGES##*/}
	dom_set_system_map "$1" "$DEBIAN_IMAGES/System.map"
	DOM_KERNEL=$img/vmlinuz DOM_RAMDISK=$img/initrd.img \
		DOM_CMDLINE="$(cat "$DEBIAN_IMAGES/cmdline") console=hvc0" DOM_DISKS=$DEBIAN_DISKS \
		DOM_MAKE_DISKS="rm -f root.img data.img && cp --sparse=always $img/root.img root.img && truncate -s ${DOM_DATA_MB}M data.img" \
		dom_create "$@"
}

# debian_state NAME [TAG]: "state failed boot_id count pid" of the guest:
# systemd's state and number of failed units, the boot, the counter
# service's count and process (lab/debian/overlay: lab-counter); with TAG,
# logged to the journal first.  One command: each costs seconds here.
debian_state() {
	local tag=
	[ -z "${2:-}" ] || tag="logger $2 && "
	dom_run "$1" "${tag}echo \"\$(systemctl is-system-running) \$(systemctl list-units --failed --no-legend --plain | wc -l)\" \
\"\$(cat /proc/sys/kernel/random/boot_id) \$(cat /run/lab-counter)\"" 60
}

# The guest command that prints where its journal ends now.
_DEBIAN_CURSOR='journalctl -q -n 1 -o cat --show-cursor | sed -n "s/^-- cursor: //p"'

# debian_journal_cursor NAME: where the guest's journal ends now.
debian_journal_cursor() { dom_run "$1" "$_DEBIAN_CURSOR" 30; }

# debian_hib_cmd HOW: HIB_CMD for a cycle started by HOW: systemctl
# (`systemctl hibernate` typed in the guest) or button (dom0 presses the
# sleep button, HIB_PRESS, once the guest printed @@ARMED; logind turns it
# into a hibernation).  The command ends
# when systemd says the hibernation finished (after the resume) or failed.
debian_hib_cmd() {
	local start
	case $1 in
	systemctl) start='systemctl hibernate || exit $?' ;;
	button) start='echo @@ARMED > /dev/kmsg' ;;
	*) echo "debian_hib_cmd: systemctl or button, not '$1'" >&2; return 1 ;;
	esac
	printf '%s\n' "cur=\$($_DEBIAN_CURSOR)" "$start" \
		'i=0' \
		'until out=$(journalctl -q --after-cursor="$cur" -u systemd-hibernate.service -o cat | grep -E "^(Finished|Failed to start)"); do' \
		'	i=$((i + 1)); [ $i -lt 900 ] || { echo "no end of systemd-hibernate.service"; exit 1; }' \
		'	sleep 1' \
		'done' \
		'echo "$out"' \
		'case $out in Finished*) exit 0 ;; *) exit 1 ;; esac'
}
