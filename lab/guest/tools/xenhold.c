// SPDX-License-Identifier: GPL-2.0
/*
 * xenhold: hold, from user space, what vchan-style programs hold, until
 * killed: an event channel (/dev/xen/evtchn), a grant offered to another
 * domain (/dev/xen/gntalloc) or a grant mapping set up (/dev/xen/gntdev);
 * or, as xenstore clients do, open xenstore transactions (/dev/xen/xenbus).
 *
 *   xenhold evtchn|gntalloc|gntdev [DOMID]
 *   xenhold transactions N
 *
 * DOMID (default 0) is the other end.  Prints "held <what> <detail>" once
 * the resource exists, then waits for a signal; exits non-zero, with the
 * error, if the kernel refuses.  Transactions are ended (aborted) on
 * SIGTERM, whatever xenstored answers, before it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdint.h>
/* The uapi headers use the hypervisor's type names without defining them. */
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;
#include <xen/evtchn.h>
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "xenhold: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void failed(const char *what)
{
	fprintf(stderr, "xenhold: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void hold_evtchn(unsigned int domid)
{
	struct ioctl_evtchn_bind_unbound_port op = { .remote_domain = domid };
	int fd = open_dev("/dev/xen/evtchn");
	int port = ioctl(fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &op);

	if (port < 0)
		failed("IOCTL_EVTCHN_BIND_UNBOUND_PORT");
	printf("held evtchn port %d\n", port);
}

static void hold_gntalloc(unsigned int domid)
{
	struct ioctl_gntalloc_alloc_gref op = {
		.domid = domid,
		.flags = GNTALLOC_FLAG_WRITABLE,
		.count = 1,
	};
	int fd = open_dev("/dev/xen/gntalloc");

	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, &op))
		failed("IOCTL_GNTALLOC_ALLOC_GREF");
	printf("held gntalloc gref %u\n", op.gref_ids[0]);
}

/* The mapping is set up, not mmap()ed: the kernel holds it all the same. */
static void hold_gntdev(unsigned int domid)
{
	struct ioctl_gntdev_map_grant_ref op = {
		.count = 1,
		.refs[0] = { .domid = domid, .ref = 8 },
	};
	int fd = open_dev("/dev/xen/gntdev");

	if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, &op))
		failed("IOCTL_GNTDEV_MAP_GRANT_REF");
	printf("held gntdev index %llu\n", (unsigned long long)op.index);
}

/* The xenstore wire protocol (xen/include/public/io/xs_wire.h). */
struct xs_msg {
	uint32_t type, req_id, tx_id, len;
};
#define XS_TRANSACTION_START 6
#define XS_TRANSACTION_END 7
#define XS_ERROR 16
#define MAX_TRANSACTIONS 64

static int xs_fd;
static unsigned int tx_ids[MAX_TRANSACTIONS], tx_count;

/* xs_request TYPE TX PAYLOAD ANSWER: ANSWER gets the reply's payload. */
static uint32_t xs_request(uint32_t type, uint32_t tx, const char *payload,
			   char *answer, size_t size)
{
	struct xs_msg m = { .type = type, .tx_id = tx, .len = strlen(payload) + 1 };
	char buf[sizeof(m) + 64];

	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), payload, m.len);
	if (write(xs_fd, buf, sizeof(m) + m.len) != (ssize_t)(sizeof(m) + m.len))
		failed("write /dev/xen/xenbus");
	if (read(xs_fd, &m, sizeof(m)) != sizeof(m) || m.len >= size)
		failed("read /dev/xen/xenbus");
	if (read(xs_fd, answer, m.len) != (ssize_t)m.len)
		failed("read /dev/xen/xenbus");
	answer[m.len] = 0;
	return m.type;
}

static void end_transactions(int sig)
{
	char answer[64];

	(void)sig;
	while (tx_count)
		xs_request(XS_TRANSACTION_END, tx_ids[--tx_count], "F", answer, sizeof(answer));
	_exit(0);
}

static void hold_transactions(unsigned int n)
{
	char answer[64];

	if (n > MAX_TRANSACTIONS) {
		fprintf(stderr, "xenhold: at most %d transactions\n", MAX_TRANSACTIONS);
		exit(2);
	}
	xs_fd = open_dev("/dev/xen/xenbus");
	signal(SIGTERM, end_transactions);
	while (tx_count < n) {
		if (xs_request(XS_TRANSACTION_START, 0, "", answer, sizeof(answer)) == XS_ERROR) {
			fprintf(stderr, "xenhold: transaction %u refused: %s\n", tx_count + 1, answer);
			end_transactions(0);
		}
		tx_ids[tx_count++] = strtoul(answer, NULL, 10);
	}
	printf("held transactions %u\n", n);
}

int main(int argc, char **argv)
{
	unsigned int domid = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: xenhold evtchn|gntalloc|gntdev [DOMID] | transactions N\n");
		return 2;
	}
	if (!strcmp(argv[1], "evtchn"))
		hold_evtchn(domid);
	else if (!strcmp(argv[1], "gntalloc"))
		hold_gntalloc(domid);
	else if (!strcmp(argv[1], "gntdev"))
		hold_gntdev(domid);
	else if (!strcmp(argv[1], "transactions"))
		hold_transactions(domid);
	else {
		fprintf(stderr, "xenhold: unknown resource %s\n", argv[1]);
		return 2;
	}
	fflush(stdout);
	for (;;)
		pause();
}
