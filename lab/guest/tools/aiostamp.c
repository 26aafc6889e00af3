// SPDX-License-Identifier: GPL-2.0
/*
 * aiostamp: keep writes in flight on a disk with Linux native AIO (no
 * task waits in the kernel for them, so they stay in flight while user
 * space is frozen), and check afterwards that every completed write is on
 * the disk and that no older write landed after a newer one.
 *
 *   aiostamp write DEV BLOCKS DEPTH STATE
 *   aiostamp status STATE
 *   aiostamp check DEV BLOCKS STATE
 *
 * write: DEPTH 4 KiB O_DIRECT writes stay in flight over the first BLOCKS
 * blocks of DEV.  Slot s owns blocks s, s + DEPTH, ...; it writes them in
 * turn, each only after its previous write completed, so a block never has
 * two writes in flight.  The k-th write of block b carries the stamp "b k"
 * at both ends of the block; once it completed, STATE (a file, mapped
 * shared: put it in memory) records k for b.  Runs until SIGTERM or
 * SIGINT, then waits for the writes in flight and exits.
 * status: "acked A errors E inflight I" from STATE.
 * check: reads every block and compares its stamp with STATE, also while
 * the writer runs.  A block behind (an older stamp than its last completed
 * write) lost a write, or had an old write done again after a newer one.
 * Prints "blocks N acked A errors E behind B ahead H" and exits 1 if a
 * block is behind, unreadable or unstamped where a write completed, or a
 * write failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BLOCK 4096
#define MAGIC 0x61696f7374616d70ULL	/* "aiostamp" */

/* STATE: this header, then one completed-write count per block. */
struct state {
	uint64_t magic, blocks, acked, errors, inflight;
	uint64_t done[];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "aiostamp: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct state *map_state(const char *path, uint64_t blocks, int create)
{
	size_t len = sizeof(struct state) + blocks * sizeof(uint64_t);
	int fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0600);
	struct state *st;

	if (fd < 0)
		die(path);
	if (create && ftruncate(fd, len))
		die("ftruncate");
	if (!create) {
		off_t size = lseek(fd, 0, SEEK_END);

		if (size < (off_t)sizeof(struct state))
			die("state file too short");
		len = size;
	}
	st = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (st == MAP_FAILED)
		die("mmap");
	close(fd);
	if (create) {
		st->magic = MAGIC;
		st->blocks = blocks;
	} else if (st->magic != MAGIC || (blocks && st->blocks != blocks)) {
		fprintf(stderr, "aiostamp: %s is not a state for %" PRIu64 " blocks\n", path, blocks);
		exit(2);
	}
	return st;
}

static int open_disk(const char *dev, int flags)
{
	int fd = open(dev, flags | O_DIRECT);

	if (fd < 0)
		die(dev);
	return fd;
}

/* The stamp goes at both ends, so that a write cut in two shows. */
static void stamp(char *buf, uint64_t block, uint64_t k)
{
	int n;

	memset(buf, '.', BLOCK);
	n = snprintf(buf, 64, "aiostamp %" PRIu64 " %" PRIu64 "\n", block, k);
	memcpy(buf + BLOCK - 64, buf, n);
}

/* The count in BUF's stamps for BLOCK; -1 if unstamped, -2 if they differ. */
static int64_t read_stamp(const char *buf, uint64_t block)
{
	uint64_t b, k, b2, k2;

	if (strncmp(buf, "aiostamp ", 9))
		return -1;
	if (sscanf(buf, "aiostamp %" SCNu64 " %" SCNu64, &b, &k) != 2 ||
	    sscanf(buf + BLOCK - 64, "aiostamp %" SCNu64 " %" SCNu64, &b2, &k2) != 2 ||
	    b != block || b2 != b || k2 != k)
		return -2;
	return k;
}

struct slot {
	struct iocb cb;
	char *buf;
	uint64_t first;		/* this slot's blocks: first, first + DEPTH, ... */
	uint64_t block;		/* the block being written */
	uint64_t next;		/* the block this slot writes next */
};

static void submit(aio_context_t ctx, int fd, struct slot *s, struct state *st, uint64_t depth)
{
	struct iocb *cbs[1] = { &s->cb };

	s->block = s->next;
	s->next += depth;
	if (s->next >= st->blocks)
		s->next = s->first;
	stamp(s->buf, s->block, st->done[s->block] + 1);
	memset(&s->cb, 0, sizeof(s->cb));
	s->cb.aio_data = (uintptr_t)s;
	s->cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	s->cb.aio_fildes = fd;
	s->cb.aio_buf = (uintptr_t)s->buf;
	s->cb.aio_nbytes = BLOCK;
	s->cb.aio_offset = s->block * BLOCK;
	while (syscall(SYS_io_submit, ctx, 1, cbs) != 1)
		if (errno != EINTR && errno != EAGAIN)
			die("io_submit");
	st->inflight++;
}

static int do_write(const char *dev, uint64_t blocks, uint64_t depth, const char *path)
{
	struct state *st = map_state(path, blocks, 1);
	int fd = open_disk(dev, O_WRONLY);
	aio_context_t ctx = 0;
	struct io_event ev[64];
	struct slot *slots;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t i;

	if (!depth || depth > 64 || blocks < depth) {
		fprintf(stderr, "aiostamp: DEPTH must be 1-64 and at most BLOCKS\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (syscall(SYS_io_setup, depth, &ctx))
		die("io_setup");
	slots = calloc(depth, sizeof(*slots));
	if (!slots)
		die("calloc");
	for (i = 0; i < depth; i++) {
		if (posix_memalign((void **)&slots[i].buf, BLOCK, BLOCK))
			die("posix_memalign");
		slots[i].first = slots[i].next = i;
		submit(ctx, fd, &slots[i], st, depth);
	}
	printf("started %" PRIu64 " writes\n", depth);
	fflush(stdout);
	while (st->inflight) {
		long n = syscall(SYS_io_getevents, ctx, 1, 64, ev, NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;	/* a signal, or the freezer */
			die("io_getevents");
		}
		for (i = 0; i < (uint64_t)n; i++) {
			struct slot *s = (struct slot *)(uintptr_t)ev[i].data;

			st->inflight--;
			if (ev[i].res == BLOCK) {
				__atomic_store_n(&st->done[s->block], st->done[s->block] + 1,
						 __ATOMIC_RELEASE);
				st->acked++;
			} else {
				st->errors++;
				fprintf(stderr, "aiostamp: block %" PRIu64 ": write failed: %s\n",
					s->block, ev[i].res < 0 ? strerror(-ev[i].res) : "short");
			}
			if (!stopping)
				submit(ctx, fd, s, st, depth);
		}
	}
	printf("acked %" PRIu64 " errors %" PRIu64 "\n", st->acked, st->errors);
	return st->errors ? 1 : 0;
}

static int do_check(const char *dev, uint64_t blocks, const char *path)
{
	struct state *st = map_state(path, blocks, 0);
	int fd = open_disk(dev, O_RDONLY);
	uint64_t b, behind = 0, ahead = 0;
	char *buf;

	if (posix_memalign((void **)&buf, BLOCK, BLOCK))
		die("posix_memalign");
	for (b = 0; b < blocks; b++) {
		/* First what completed, then the disk: a writer may go on. */
		uint64_t done = __atomic_load_n(&st->done[b], __ATOMIC_ACQUIRE);
		int64_t k;

		if (pread(fd, buf, BLOCK, b * BLOCK) != BLOCK)
			die("pread");
		k = read_stamp(buf, b);
		if (k == -2 || (k == -1 && done)) {
			fprintf(stderr, "aiostamp: block %" PRIu64 ": bad stamp, %" PRIu64 " writes completed\n",
				b, done);
			behind++;
		} else if (k >= 0 && (uint64_t)k < done) {
			fprintf(stderr, "aiostamp: block %" PRIu64 ": write %" PRId64 " on disk, %" PRIu64 " completed\n",
				b, k, done);
			behind++;
		} else if (k >= 0 && (uint64_t)k > done) {
			ahead++;	/* in flight, or completed after the read */
		}
	}
	printf("blocks %" PRIu64 " acked %" PRIu64 " errors %" PRIu64 " behind %" PRIu64 " ahead %" PRIu64 "\n",
	       blocks, st->acked, st->errors, behind, ahead);
	return behind || st->errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "write"))
		return do_write(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), argv[5]);
	if (argc == 3 && !strcmp(argv[1], "status")) {
		struct state *st = map_state(argv[2], 0, 0);

		printf("acked %" PRIu64 " errors %" PRIu64 " inflight %" PRIu64 "\n",
		       st->acked, st->errors, st->inflight);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "check"))
		return do_check(argv[2], strtoull(argv[3], NULL, 0), argv[4]);
	fprintf(stderr, "usage: aiostamp write DEV BLOCKS DEPTH STATE | status STATE | check DEV BLOCKS STATE\n");
	return 2;
}
