// SPDX-License-Identifier: GPL-2.0
/*
 * blksnap: copy-on-write snapshots and changed block tracking of block
 * devices, as a bdevfilter filter. Snapshot control: /dev/blksnap-control.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>
#include <linux/build_bug.h>
#include "blksnap.h"

static_assert(sizeof(struct blksnap_cbtinfo) == 40);
static_assert(sizeof(struct blksnap_cbtmap) == 16);
static_assert(sizeof(struct blksnap_sectors) == 16);
static_assert(sizeof(struct blksnap_cbtdirty) == 16);
static_assert(sizeof(struct blksnap_snapshotadd) == 16);
static_assert(sizeof(struct blksnap_snapshotinfo) == 36);
static_assert(sizeof(struct blksnap_version) == 8);
static_assert(sizeof(struct blksnap_snapshot_create) == 32);
static_assert(sizeof(struct blksnap_snapshot_collect) == 16);
static_assert(sizeof(struct blksnap_snapshot_event) == 4096);

#define BLKSNAP_VERSION_REVISION 0
#define BLKSNAP_VERSION_BUILD 1

unsigned int tracking_block_minimum_shift = 16;
unsigned int tracking_block_maximum_shift = 26;
unsigned int tracking_block_maximum_count = 2097152;
unsigned int chunk_minimum_shift = 18;
unsigned int chunk_maximum_shift = 26;
unsigned int chunk_maximum_count = 2097152;
unsigned long diff_storage_minimum = 2097152;

module_param(tracking_block_minimum_shift, uint, 0644);
MODULE_PARM_DESC(tracking_block_minimum_shift, "log2 of the smallest CBT block (bytes)");
module_param(tracking_block_maximum_shift, uint, 0644);
MODULE_PARM_DESC(tracking_block_maximum_shift, "log2 of the largest CBT block (bytes)");
module_param(tracking_block_maximum_count, uint, 0644);
MODULE_PARM_DESC(tracking_block_maximum_count, "most CBT blocks per device");
module_param(chunk_minimum_shift, uint, 0644);
MODULE_PARM_DESC(chunk_minimum_shift, "log2 of the smallest copy-on-write chunk (bytes)");
module_param(chunk_maximum_shift, uint, 0644);
MODULE_PARM_DESC(chunk_maximum_shift, "log2 of the largest copy-on-write chunk (bytes)");
module_param(chunk_maximum_count, uint, 0644);
MODULE_PARM_DESC(chunk_maximum_count, "most chunks per device");
module_param(diff_storage_minimum, ulong, 0644);
MODULE_PARM_DESC(diff_storage_minimum, "growth step of the difference storage (sectors)");

/* snapshot list, tracker snapshot membership, CBT map replacement */
DEFINE_MUTEX(blksnap_lock);
struct workqueue_struct *blksnap_wq;
struct bio_set blksnap_bioset;

static int blksnap_ioctl_version(struct blksnap_version __user *arg)
{
	static const struct blksnap_version version = {
		.major = BLKSNAP_VERSION_MAJOR,
		.minor = BLKSNAP_VERSION_MINOR,
		.revision = BLKSNAP_VERSION_REVISION,
		.build = BLKSNAP_VERSION_BUILD,
	};

	return copy_to_user(arg, &version, sizeof(version)) ? -EFAULT : 0;
}

static int blksnap_ioctl_id(unsigned int cmd, struct blksnap_uuid __user *arg)
{
	struct blksnap_uuid id;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	if (cmd == IOCTL_BLKSNAP_SNAPSHOT_DESTROY)
		return snapshot_destroy(id.b);
	return snapshot_take(id.b);
}

static long blksnap_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOCTL_BLKSNAP_VERSION:
		return blksnap_ioctl_version(uarg);
	case IOCTL_BLKSNAP_SNAPSHOT_CREATE:
		return snapshot_create(uarg);
	case IOCTL_BLKSNAP_SNAPSHOT_DESTROY:
	case IOCTL_BLKSNAP_SNAPSHOT_TAKE:
		return blksnap_ioctl_id(cmd, uarg);
	case IOCTL_BLKSNAP_SNAPSHOT_COLLECT:
		return snapshot_collect(uarg);
	case IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT:
		return snapshot_wait_event(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations blksnap_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = blksnap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice blksnap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = BLKSNAP_CTL_NAME,
	.fops = &blksnap_fops,
};

static int blksnap_check_params(void)
{
	if (tracking_block_minimum_shift < SECTOR_SHIFT ||
	    tracking_block_maximum_shift < tracking_block_minimum_shift ||
	    tracking_block_maximum_shift > 30 || !tracking_block_maximum_count ||
	    chunk_minimum_shift < PAGE_SHIFT ||
	    chunk_maximum_shift < chunk_minimum_shift ||
	    chunk_maximum_shift > 30 || !chunk_maximum_count) {
		pr_err("invalid module parameters\n");
		return -EINVAL;
	}
	return 0;
}

static int __init blksnap_init(void)
{
	int ret;

	ret = blksnap_check_params();
	if (ret)
		return ret;
	blksnap_wq = alloc_workqueue("blksnap", WQ_MEM_RECLAIM | WQ_UNBOUND |
				     WQ_HIGHPRI, 0);
	if (!blksnap_wq)
		return -ENOMEM;
	ret = bioset_init(&blksnap_bioset, BIO_POOL_SIZE, 0, BIOSET_NEED_BVECS);
	if (ret)
		goto err_wq;
	ret = tracker_init();
	if (ret)
		goto err_bioset;
	ret = misc_register(&blksnap_misc);
	if (ret)
		goto err_tracker;
	pr_info("loaded, interface %d.%d\n", BLKSNAP_VERSION_MAJOR,
		BLKSNAP_VERSION_MINOR);
	return 0;

err_tracker:
	tracker_done();
err_bioset:
	bioset_exit(&blksnap_bioset);
err_wq:
	destroy_workqueue(blksnap_wq);
	return ret;
}

static void __exit blksnap_exit(void)
{
	misc_deregister(&blksnap_misc);
	tracker_done();
	snapshot_destroy_all();
	bioset_exit(&blksnap_bioset);
	destroy_workqueue(blksnap_wq);
	pr_info("unloaded\n");
}

module_init(blksnap_init);
module_exit(blksnap_exit);
MODULE_DESCRIPTION("Block device snapshots and changed block tracking");
MODULE_AUTHOR("blockvault");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: bdevfilter");
