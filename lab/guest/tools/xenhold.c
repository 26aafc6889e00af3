// SPDX-License-Identifier: GPL-2.0
/*
 * xenhold: hold, from user space, what vchan-style programs hold, until
 * killed: an event channel (/dev/xen/evtchn), a grant offered to another
 * domain (/dev/xen/gntalloc) or a grant mapping set up (/dev/xen/gntdev).
 *
 *   xenhold evtchn|gntalloc|gntdev [DOMID]
 *
 * DOMID (default 0) is the other end.  Prints "held <what> <detail>" once
 * the resource exists, then waits for a signal; exits non-zero, with the
 * error, if the kernel refuses.
 */
#include <errno.h>
#include <fcntl.h>
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

int main(int argc, char **argv)
{
	unsigned int domid = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: xenhold evtchn|gntalloc|gntdev [DOMID]\n");
		return 2;
	}
	if (!strcmp(argv[1], "evtchn"))
		hold_evtchn(domid);
	else if (!strcmp(argv[1], "gntalloc"))
		hold_gntalloc(domid);
	else if (!strcmp(argv[1], "gntdev"))
		hold_gntdev(domid);
	else {
		fprintf(stderr, "xenhold: unknown resource %s\n", argv[1]);
		return 2;
	}
	fflush(stdout);
	for (;;)
		pause();
}
