// SPDX-License-Identifier: GPL-2.0
/*
 * blkpark: a write that waits in blk-mq across a hibernation.
 *
 * With op=discard, a discard of the same range instead: held by a slow
 * backend across Xen's own suspend, where the freeze_late callbacks also
 * run, it stays in blkfront's shadow and is sent again after the resume.
 *
 * Armed through /sys/module/blkpark/parameters/armed, the freeze_late
 * callback of a platform device has a kernel thread that the freezer
 * leaves running (a worker of system_unbound_wq) submit one write of
 * `pages` pages at `sector` of the block device `path`.  Every .freeze
 * callback has run by then, so the disk is disconnected: the write waits,
 * in blk-mq or in its submitter, until the disk reconnects.  freeze_late
 * returns once the write is submitted or its submitter sleeps, so the
 * snapshot, taken after freeze_late, holds the waiting write.  Only kernel
 * code can do this: user space is frozen before any device is.
 *
 * Each page holds the text "blkpark <tag>\n" repeated.  `state` says where
 * the write is: idle, pending, or done:<status>, which a restored kernel
 * reports once the write it inherited from the image has completed;
 * `at_restore` is the state the image held.  The kernel that writes the
 * image sends that write with "thawed" instead of the tag.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

static char *path = "/dev/xvda";
module_param(path, charp, 0444);
static unsigned long long sector;
module_param(sector, ullong, 0444);
static unsigned int pages = 8;
module_param(pages, uint, 0444);
static char tag[32] = "0";
module_param_string(tag, tag, sizeof(tag), 0644);
static bool armed;
module_param(armed, bool, 0644);
/* "discard": a discard of the same range instead of the write. */
static char *op = "write";
module_param(op, charp, 0444);

static char state[32] = "idle";
module_param_string(state, state, sizeof(state), 0444);
/* The state the image held, seen before any device is restored. */
static char at_restore[32];
module_param_string(at_restore, at_restore, sizeof(at_restore), 0444);

/*
 * The disk, opened as a struct file since 6.9; 6.1 (before 6.5) has
 * blkdev_get_by_path() with an fmode_t.  Kernels in between are not built.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static struct file *bdev_file;

static int park_open_disk(void)
{
	bdev_file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
					   NULL, NULL);
	return PTR_ERR_OR_ZERO(bdev_file);
}

static struct block_device *park_disk(void)
{
	return file_bdev(bdev_file);
}

static void park_close_disk(void)
{
	fput(bdev_file);
}
#else
#define PARK_DISK_MODE (FMODE_READ | FMODE_WRITE)
static struct block_device *park_bdev;

static int park_open_disk(void)
{
	park_bdev = blkdev_get_by_path(path, PARK_DISK_MODE, NULL);
	return PTR_ERR_OR_ZERO(park_bdev);
}

static struct block_device *park_disk(void)
{
	return park_bdev;
}

static void park_close_disk(void)
{
	blkdev_put(park_bdev, PARK_DISK_MODE);
}
#endif
static struct page **park_pages;
static struct platform_device *park_pdev;
static struct task_struct *park_task;
static DECLARE_COMPLETION(park_started);
static DECLARE_COMPLETION(park_submitted);

static void blkpark_end_io(struct bio *bio)
{
	snprintf(state, sizeof(state), "done:%d",
		 blk_status_to_errno(bio->bi_status));
	pr_info("blkpark: %s of %u pages at sector %llu ended: %s\n",
		op, pages, sector, state);
	bio_put(bio);
}

/* One page at a time, so that each page is a segment of its own. */
static void blkpark_submit(struct work_struct *work)
{
	struct bio *bio;
	unsigned int i;

	if (!strcmp(op, "discard")) {
		bio = bio_alloc(park_disk(), 0, REQ_OP_DISCARD, GFP_NOIO);
		bio->bi_iter.bi_size = pages * PAGE_SIZE;
	} else {
		bio = bio_alloc(park_disk(), pages, REQ_OP_WRITE, GFP_NOIO);
		for (i = 0; i < pages; i++)
			__bio_add_page(bio, park_pages[i], PAGE_SIZE, 0);
	}
	bio->bi_iter.bi_sector = sector;
	bio->bi_end_io = blkpark_end_io;
	WRITE_ONCE(park_task, current);
	complete(&park_started);
	submit_bio(bio);
	complete(&park_submitted);
}

static DECLARE_WORK(park_work, blkpark_submit);

/* Each page holds "blkpark <text>\n" as often as it fits. */
static void blkpark_fill_pages(const char *text)
{
	unsigned int i;
	char line[64];
	size_t len, off;

	len = scnprintf(line, sizeof(line), "blkpark %s\n", text);
	for (i = 0; i < pages; i++) {
		char *p = page_address(park_pages[i]);

		for (off = 0; off + len <= PAGE_SIZE; off += len)
			memcpy(p + off, line, len);
		memset(p + off, '\n', PAGE_SIZE - off);
	}
}

static int blkpark_freeze_late(struct device *dev)
{
	unsigned long end = jiffies + 10 * HZ;
	const char *how = "submitted";

	if (!armed)
		return 0;
	armed = false;
	strscpy(state, "pending", sizeof(state));
	blkpark_fill_pages(tag);
	reinit_completion(&park_started);
	reinit_completion(&park_submitted);
	pr_info("blkpark: submitting a %s of %u pages at sector %llu of %s\n",
		op, pages, sector, path);
	queue_work(system_unbound_wq, &park_work);
	wait_for_completion(&park_started);
	while (!completion_done(&park_submitted)) {
		if (READ_ONCE(park_task->__state) == TASK_UNINTERRUPTIBLE) {
			how = "waiting in its submitter";
			break;
		}
		if (time_after(jiffies, end)) {
			how = "neither submitted nor waiting after 10 s";
			break;
		}
		usleep_range(100, 200);
	}
	pr_info("blkpark: the write is %s\n", how);
	return 0;
}

/*
 * After the snapshot, in the kernel that writes the image: the waiting
 * write goes out with other data here, so that the tagged data on the disk
 * after a restore can only come from the restored kernel's write.
 */
static int blkpark_thaw_early(struct device *dev)
{
	if (!strcmp(state, "pending"))
		blkpark_fill_pages("thawed");
	return 0;
}

static int blkpark_restore_early(struct device *dev)
{
	strscpy(at_restore, state, sizeof(at_restore));
	return 0;
}

static const struct dev_pm_ops blkpark_pm_ops = {
	.freeze_late = blkpark_freeze_late,
	.thaw_early = blkpark_thaw_early,
	.restore_early = blkpark_restore_early,
};

static struct platform_driver blkpark_driver = {
	.driver = {
		.name = "blkpark",
		.pm = &blkpark_pm_ops,
	},
};

static void blkpark_free_pages(void)
{
	unsigned int i;

	for (i = 0; i < pages; i++)
		if (park_pages[i])
			__free_page(park_pages[i]);
	kfree(park_pages);
}

static int __init blkpark_init(void)
{
	unsigned int i;
	int err;

	if (!pages || pages > BIO_MAX_VECS)
		return -EINVAL;
	err = park_open_disk();
	if (err)
		return err;
	err = -ENOMEM;
	park_pages = kcalloc(pages, sizeof(*park_pages), GFP_KERNEL);
	if (!park_pages)
		goto close;
	for (i = 0; i < pages; i++) {
		park_pages[i] = alloc_page(GFP_KERNEL);
		if (!park_pages[i])
			goto free_pages;
	}
	err = platform_driver_register(&blkpark_driver);
	if (err)
		goto free_pages;
	park_pdev = platform_device_register_simple("blkpark", -1, NULL, 0);
	if (IS_ERR(park_pdev)) {
		err = PTR_ERR(park_pdev);
		goto unregister;
	}
	return 0;
unregister:
	platform_driver_unregister(&blkpark_driver);
free_pages:
	blkpark_free_pages();
close:
	park_close_disk();
	return err;
}
module_init(blkpark_init);

/* No exit: a write in flight must keep its pages and its device. */
MODULE_DESCRIPTION("Test: a write parked in blk-mq across hibernation");
MODULE_LICENSE("GPL");
