// SPDX-License-Identifier: GPL-2.0
/*
 * clockwatch: a CPU-bound task that watches the guest's clocks across a
 * hibernation.  It never sleeps: it reads CLOCK_MONOTONIC in a tight loop
 * and counts every step backwards, reads the steal time of every CPU from
 * /proc/stat every 100 ms and counts every decrease, and rewrites a status
 * file (atomically, by rename) every 250 ms:
 *
 *   iters=<loop iterations> updates=<status writes> mono_ns=<now>
 *   backwards=<steps back> max_back_ns=<largest step back>
 *   max_gap_ns=<largest step forward> steal=<sum of all CPUs, ticks>
 *   steal_decreases=<count> steal_cpus=<CPUs seen>
 *
 * Usage: clockwatch STATUS_FILE
 * Used by lab/scenarios/s4-clock.sh: after the restore the status file must keep
 * changing (the task is scheduled) and both counters must still be 0.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CPUS 64
#define STEAL_PERIOD_NS 100000000LL
#define STATUS_PERIOD_NS 250000000LL

struct watch {
	unsigned long long iters, updates, backwards, steal_decreases;
	int64_t max_back_ns, max_gap_ns;
	unsigned long long steal[MAX_CPUS];
	int steal_cpus;
	unsigned long long steal_sum;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		perror("clock_gettime");
		exit(1);
	}
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Steal time is the 8th number of each "cpuN" line of /proc/stat. */
static void check_steal(struct watch *w)
{
	unsigned long long v[8], sum = 0;
	char line[512];
	int cpu, n = 0;
	FILE *f;

	f = fopen("/proc/stat", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu",
			   &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7]) != 9 || cpu < 0 || cpu >= MAX_CPUS)
			continue;
		if (cpu < w->steal_cpus && v[7] < w->steal[cpu]) {
			w->steal_decreases++;
			fprintf(stderr, "clockwatch: cpu%d steal %llu -> %llu\n",
				cpu, w->steal[cpu], v[7]);
		}
		w->steal[cpu] = v[7];
		sum += v[7];
		if (cpu + 1 > n)
			n = cpu + 1;
	}
	fclose(f);
	if (n > w->steal_cpus)
		w->steal_cpus = n;
	w->steal_sum = sum;
}

static void write_status(const char *path, struct watch *w, int64_t now)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	w->updates++;
	fprintf(f, "iters=%llu updates=%llu mono_ns=%lld backwards=%llu max_back_ns=%lld max_gap_ns=%lld steal=%llu steal_decreases=%llu steal_cpus=%d\n",
		w->iters, w->updates, (long long)now, w->backwards,
		(long long)w->max_back_ns, (long long)w->max_gap_ns,
		w->steal_sum, w->steal_decreases, w->steal_cpus);
	if (fclose(f) == 0)
		rename(tmp, path);
}

int main(int argc, char **argv)
{
	struct watch w = { 0 };
	int64_t prev, now, next_steal, next_status;

	if (argc != 2) {
		fprintf(stderr, "usage: clockwatch STATUS_FILE\n");
		return 2;
	}
	prev = mono_ns();
	check_steal(&w);
	next_steal = prev + STEAL_PERIOD_NS;
	next_status = prev;
	for (;;) {
		now = mono_ns();
		w.iters++;
		if (now < prev) {
			w.backwards++;
			if (prev - now > w.max_back_ns)
				w.max_back_ns = prev - now;
			fprintf(stderr, "clockwatch: CLOCK_MONOTONIC went back %lld ns\n",
				(long long)(prev - now));
			/* Keep reporting even while the clock catches up. */
			next_steal = now;
			next_status = now;
		} else if (now - prev > w.max_gap_ns) {
			w.max_gap_ns = now - prev;
		}
		prev = now;
		if (now >= next_steal) {
			check_steal(&w);
			next_steal = now + STEAL_PERIOD_NS;
		}
		if (now >= next_status) {
			write_status(argv[1], &w, now);
			next_status = now + STATUS_PERIOD_NS;
		}
	}
}
