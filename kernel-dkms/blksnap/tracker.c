// SPDX-License-Identifier: GPL-2.0
/*
 * The "blksnap" bdevfilter: marks the CBT map for every write, discard and
 * write-zeroes, and does copy-on-write while a snapshot is taken.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/percpu-rwsem.h>
#include <linux/uaccess.h>
#include "blksnap.h"

#define CBTDIRTY_BATCH 64

/* Writers hold it for reading while they mark; take switches all maps. */
DEFINE_STATIC_PERCPU_RWSEM(tracker_switch_sem);

void tracker_switch_lock(void)
{
	percpu_down_write(&tracker_switch_sem);
}

void tracker_switch_unlock(void)
{
	percpu_up_write(&tracker_switch_sem);
}

static struct tracker *to_tracker(struct bdevfilter *flt)
{
	return container_of(flt, struct tracker, filter);
}

static void tracker_release(struct kref *kref)
{
	struct tracker *tracker = container_of(kref, struct tracker, kref);

	cbt_map_destroy(tracker->cbt);
	cbt_map_destroy(tracker->cbt_new);
	kfree(tracker);
}

void tracker_put(struct tracker *tracker)
{
	kref_put(&tracker->kref, tracker_release);
}

static struct bdevfilter *tracker_attach(struct block_device *bdev)
{
	sector_t capacity = bdev_nr_sectors(bdev);
	struct tracker *tracker;

	if (!capacity)
		return ERR_PTR(-ENODEV);
	tracker = kzalloc(sizeof(*tracker), GFP_KERNEL);
	if (!tracker)
		return ERR_PTR(-ENOMEM);
	tracker->cbt = cbt_map_create(capacity);
	if (IS_ERR(tracker->cbt)) {
		int ret = PTR_ERR(tracker->cbt);

		kfree(tracker);
		return ERR_PTR(ret);
	}
	kref_init(&tracker->kref);
	spin_lock_init(&tracker->lock);
	INIT_LIST_HEAD(&tracker->snapshot_link);
	tracker->dev = bdev->bd_dev;
	return &tracker->filter;
}

static void tracker_detach(struct bdevfilter *flt)
{
	struct tracker *tracker = to_tracker(flt);

	mutex_lock(&blksnap_lock);
	if (tracker->snapshot)
		snapshot_remove_tracker(tracker, -ENODEV);
	mutex_unlock(&blksnap_lock);
	tracker_put(tracker);
}

/* A write submitted where we cannot sleep is tracked but not copied. */
static void tracker_submit_atomic(struct tracker *tracker, struct bio *bio)
{
	struct diff_area *da;
	unsigned long flags;

	spin_lock_irqsave(&tracker->lock, flags);
	cbt_map_mark(tracker->cbt, bio->bi_iter.bi_sector, bio_sectors(bio));
	da = tracker->diff_area;
	spin_unlock_irqrestore(&tracker->lock, flags);
	if (da)
		snapshot_set_error(da->snapshot, tracker->dev, -EWOULDBLOCK);
}

static bool tracker_submit_bio(struct bdevfilter *flt, struct bio *bio)
{
	struct tracker *tracker = to_tracker(flt);
	struct diff_area *da;
	unsigned long flags;
	unsigned int noio;
	int ret;

	if (!op_is_write(bio_op(bio)) || !bio_sectors(bio))
		return false;
	if (unlikely(!in_task())) {
		tracker_submit_atomic(tracker, bio);
		return false;
	}

	percpu_down_read(&tracker_switch_sem);
	spin_lock_irqsave(&tracker->lock, flags);
	cbt_map_mark(tracker->cbt, bio->bi_iter.bi_sector, bio_sectors(bio));
	da = tracker->diff_area;
	spin_unlock_irqrestore(&tracker->lock, flags);
	percpu_up_read(&tracker_switch_sem);
	if (!da)
		return false;

	noio = memalloc_noio_save();
	ret = diff_area_cow(da, bio);
	memalloc_noio_restore(noio);
	if (ret == -EAGAIN) {
		bio_wouldblock_error(bio);
		return true;
	}
	return false;
}

static int tracker_ctl_cbtinfo(struct tracker *tracker, void __user *opt,
			       u32 *optlen)
{
	struct blksnap_cbtinfo info = {};
	struct cbt_map *cbt = tracker->cbt;

	if (*optlen < sizeof(info))
		return -EINVAL;
	info.device_capacity = (u64)cbt->capacity << SECTOR_SHIFT;
	info.block_size = 1U << cbt->block_shift;
	info.block_count = cbt->block_count;
	export_uuid(info.generation_id, &cbt->generation_id);
	info.changes_number = cbt->previous;
	*optlen = sizeof(info);
	if (copy_to_user(opt, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int tracker_ctl_cbtmap(struct tracker *tracker, void __user *opt,
			      u32 *optlen)
{
	struct blksnap_cbtmap arg;
	struct cbt_map *cbt = tracker->cbt;

	if (*optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	if (arg.offset > cbt->block_count ||
	    arg.length > cbt->block_count - arg.offset)
		return -ERANGE;
	if (copy_to_user(u64_to_user_ptr(arg.buffer),
			 cbt->read_map + arg.offset, arg.length))
		return -EFAULT;
	return 0;
}

static void tracker_mark_dirty(struct tracker *tracker,
			       struct blksnap_sectors *ranges, unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&tracker->lock, flags);
	for (i = 0; i < n; i++)
		cbt_map_mark_both(tracker->cbt, ranges[i].offset,
				  ranges[i].count);
	spin_unlock_irqrestore(&tracker->lock, flags);
}

static int tracker_ctl_cbtdirty(struct tracker *tracker, void __user *opt,
				u32 *optlen)
{
	struct blksnap_sectors *ranges;
	struct blksnap_cbtdirty arg;
	struct blksnap_sectors __user *uranges;
	unsigned int done, n;
	int ret = 0;

	if (*optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	ranges = kmalloc_array(CBTDIRTY_BATCH, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	uranges = u64_to_user_ptr(arg.dirty_sectors);
	for (done = 0; done < arg.count; done += n) {
		n = min_t(unsigned int, arg.count - done, CBTDIRTY_BATCH);
		if (copy_from_user(ranges, uranges + done, n * sizeof(*ranges))) {
			ret = -EFAULT;
			break;
		}
		tracker_mark_dirty(tracker, ranges, n);
	}
	kfree(ranges);
	return ret;
}

static int tracker_ctl_snapshotadd(struct tracker *tracker, void __user *opt,
				   u32 *optlen)
{
	struct blksnap_snapshotadd arg;
	struct snapshot *snap;

	if (*optlen < sizeof(arg))
		return -EINVAL;
	if (copy_from_user(&arg, opt, sizeof(arg)))
		return -EFAULT;
	snap = snapshot_find(arg.id);
	if (!snap)
		return -ESRCH;
	return snapshot_add_tracker(snap, tracker);
}

static int tracker_ctl_snapshotinfo(struct tracker *tracker, void __user *opt,
				    u32 *optlen)
{
	struct blksnap_snapshotinfo info = {};

	if (*optlen < sizeof(info))
		return -EINVAL;
	if (tracker->snapshot) {
		info.error_code = READ_ONCE(tracker->snapshot->error);
		if (tracker->image)
			strscpy(info.image, snapimage_name(tracker->image),
				sizeof(info.image));
	}
	*optlen = sizeof(info);
	if (copy_to_user(opt, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int tracker_ctl(struct bdevfilter *flt, unsigned int cmd,
		       void __user *opt, u32 *optlen)
{
	struct tracker *tracker = to_tracker(flt);
	int ret;

	mutex_lock(&blksnap_lock);
	switch (cmd) {
	case BLKSNAP_FILTER_CTL_CBTINFO:
		ret = tracker_ctl_cbtinfo(tracker, opt, optlen);
		break;
	case BLKSNAP_FILTER_CTL_CBTMAP:
		ret = tracker_ctl_cbtmap(tracker, opt, optlen);
		break;
	case BLKSNAP_FILTER_CTL_CBTDIRTY:
		ret = tracker_ctl_cbtdirty(tracker, opt, optlen);
		break;
	case BLKSNAP_FILTER_CTL_SNAPSHOTADD:
		ret = tracker_ctl_snapshotadd(tracker, opt, optlen);
		break;
	case BLKSNAP_FILTER_CTL_SNAPSHOTINFO:
		ret = tracker_ctl_snapshotinfo(tracker, opt, optlen);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&blksnap_lock);
	return ret;
}

static struct bdevfilter_operations tracker_ops = {
	.name = BLKSNAP_FILTER_NAME,
	.owner = THIS_MODULE,
	.attach = tracker_attach,
	.detach = tracker_detach,
	.ctl = tracker_ctl,
	.submit_bio = tracker_submit_bio,
};

int tracker_init(void)
{
	return bdevfilter_register(&tracker_ops);
}

void tracker_done(void)
{
	bdevfilter_unregister(&tracker_ops);
}
