# Xen guest hibernation: patch series workbench and Xen lab.
# See README.md.  Every target installs what it needs (apt-get, as root).

SHELL := /bin/bash
export BUILD ?= $(CURDIR)/build
export XH_CACHE ?= /var/cache/xen-hibernation
# The base of the series (kernel/bases/$(BASE).pin): the primary one's tree is
# build/linux and its series patches/; another's build/$(BASE)/linux and
# patches/$(BASE)/.
PRIMARY_BASE := $(shell cat kernel/bases/primary)
export BASE ?= $(PRIMARY_BASE)
LINUX_TREE := $(BUILD)$(if $(filter-out $(PRIMARY_BASE),$(BASE)),/$(BASE))/linux

.PHONY: all deps tree export pin mail kernel deb check check-series kunit lab lab-test demo soak kaslr bench rig-health history clean help

all: help

help:
	@echo "make demo          build the guest kernel, boot the Xen lab, hibernate a guest under I/O, report"
	@echo "make check         every test (series hygiene, KUnit, lab scenarios); ends 'N passed, N failed'"
	@echo "make tree [BASE=$(PRIMARY_BASE)|$(subst $(eval) ,|,$(filter-out $(PRIMARY_BASE),$(patsubst kernel/bases/%.pin,%,$(wildcard kernel/bases/*.pin))))]  build/linux = Debian base + patches/ as commits"
	@echo "                   (another base than $(PRIMARY_BASE): build/BASE/linux, patches/BASE/)"
	@echo "make export [BASE=...]  write patches/ back from build/linux"
	@echo "make pin BASE=...  move kernel/bases/BASE.pin to the newest kernel Debian publishes for it"
	@echo "make mail [MAIL_FROM='Name <addr>'] [MAIL_VERSION=N]  the series as sets to send, one per tree (build/mail)"
	@echo "make kernel        build the lab guest kernel (build/obj/guest)"
	@echo "make deb           the series' kernel as Debian packages, Debian's cloud config (build/deb)"
	@echo "make check-series  per-patch hygiene checks (TAP)"
	@echo "make kunit         KUnit suites of the series (TAP)"
	@echo "make lab-test [T=name]  lab scenarios from lab/scenarios/ (TAP); lab/run-tests.sh --list names them"
	@echo "make soak [N=100]  N hibernation cycles of one guest, per-cycle table"
	@echo "make kaslr [N=20]  s4-kaslr with N cycles (make check runs 10)"
	@echo "make bench [BENCH_RUNS='256:idle:lzo[@N] ...'] [BENCH_REPEATS=1]  hibernation next to xl save/restore, its timeline (build/bench)"
	@echo "make rig-health [RIG_MINUTES=20] [RIG_VARIANTS='native tsc-default']  domU triple faults of the rig, no hibernation"
	@echo "make history [RUN=commit]  the make check runs of this machine (CI's too): time, result, reruns, rig faults"

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh

export:
	@scripts/export.sh

pin: deps
	@[ "$(origin BASE)" != file ] || { echo "make pin BASE=NAME: which base's pin to move"; exit 2; }
	@scripts/pin.sh

mail: $(LINUX_TREE)/.git/xh-base-version
	@scripts/mail.sh

$(LINUX_TREE)/.git/xh-base-version:
	@scripts/deps.sh
	@scripts/tree.sh

kernel: $(LINUX_TREE)/.git/xh-base-version
	@scripts/kernel.sh guest

deb: $(LINUX_TREE)/.git/xh-base-version
	@scripts/deb.sh

check-series: $(LINUX_TREE)/.git/xh-base-version
	@scripts/check-series.sh

kunit: $(LINUX_TREE)/.git/xh-base-version
	@scripts/kunit.sh

lab-test: kernel
	@lab/run-tests.sh $(T)

demo: kernel
	@lab/demo.sh

# make soak [N=100] [SOAK_TYPE=hvm]: N hibernation cycles (lab/scenarios/soak.sh).
soak: kernel
	@n=$(or $(N),100); LAB_SCENARIO_TIMEOUT=$$((n * 120 + 300)) lab/run-tests.sh soak SOAK_N=$$n; \
	rc=$$?; cat $(BUILD)/lab/logs/soak/cycles.txt 2>/dev/null; exit $$rc

# make kaslr [N=20]: s4-kaslr with N cycles instead of make check's 10.
kaslr: kernel
	@n=$(or $(N),20); LAB_SCENARIO_TIMEOUT=$$((n * 90 + 300)) lab/run-tests.sh s4-kaslr KASLR_CYCLES=$$n

# make bench: hibernation next to Xen's save/restore and where its time goes
# (lab/scenarios/bench.sh; make check runs it small).  Results: build/bench.
# Two repeats where the ratio's spread is reported (one disk against 16),
# one elsewhere, and two I/O rounds in the order stock, series, series,
# stock (a drift over the run cancels out), to keep the whole bench from a
# fresh clone within 40 minutes here.
BENCH_RUNS ?= 256:idle:lzo 256:dirty:lzo 768:idle:lzo 768:dirty:lzo 768:dirty:lz4 \
	256:idle:lzo:1:1@2 256:idle:lzo:16:1@2 256:idle:lzo:4:4 256:idle:lzo:16:1:sync
BENCH_REPEATS ?= 1
BENCH_IO_ROUNDS ?= 2
bench: kernel deb
	@LAB_SCENARIO_TIMEOUT=3600 lab/run-tests.sh bench BENCH_OUT=$(BUILD)/bench \
		"BENCH_RUNS=$(BENCH_RUNS)" BENCH_REPEATS=$(BENCH_REPEATS) BENCH_IO_ROUNDS=$(BENCH_IO_ROUNDS); \
	rc=$$?; cat $(BUILD)/bench/report.md 2>/dev/null; exit $$rc

# make rig-health [RIG_MINUTES=20] [RIG_VARIANTS="native tsc-default"]: the rig's own
# fault rate, measured without hibernation (lab/rig-health.sh).
rig-health: kernel
	@lab/rig-health.sh $(if $(RIG_MINUTES),RIG_MINUTES=$(RIG_MINUTES)) $(if $(RIG_VARIANTS),"RIG_VARIANTS=$(RIG_VARIANTS)") $(if $(RIG_ROUND_S),RIG_ROUND_S=$(RIG_ROUND_S))

check: deps
	@scripts/check.sh

history:
	@RUN=$(RUN) scripts/history.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/*/obj $(BUILD)/lab
