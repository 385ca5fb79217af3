// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: a set of trackers sharing one difference storage, taken
 * together, with an event queue for user space.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/blk-mq.h>
#include <linux/uaccess.h>
#include <linux/timekeeping.h>
#include "blksnap.h"

struct snapshot_event {
	struct list_head link;
	u32 code;
	s64 time_label;
	size_t size;
	u8 data[];
};

static LIST_HEAD(snapshot_list);	/* under blksnap_lock */

/* Called with blksnap_lock held. */
struct snapshot *snapshot_find(const u8 *id)
{
	struct snapshot *snap;
	uuid_t uuid;

	import_uuid(&uuid, id);
	list_for_each_entry(snap, &snapshot_list, link) {
		if (uuid_equal(&snap->id, &uuid))
			return snap;
	}
	return NULL;
}

static void snapshot_release(struct kref *kref)
{
	struct snapshot *snap = container_of(kref, struct snapshot, kref);
	struct snapshot_event *ev, *tmp;

	list_for_each_entry_safe(ev, tmp, &snap->events, link)
		kfree(ev);
	kfree(snap);
}

/**
 * snapshot_event() - queue an event for SNAPSHOT_WAIT_EVENT; any context
 * @snap: the snapshot
 * @code: event code
 * @data: payload
 * @size: payload size, at most BLKSNAP_EVENT_DATA_SIZE
 */
void snapshot_event(struct snapshot *snap, u32 code, const void *data,
		    size_t size)
{
	struct snapshot_event *ev;
	unsigned long flags;

	ev = kzalloc(struct_size(ev, data, size), GFP_ATOMIC);
	if (!ev)
		return;
	ev->code = code;
	ev->time_label = ktime_get_real_ns();
	ev->size = size;
	memcpy(ev->data, data, size);
	spin_lock_irqsave(&snap->event_lock, flags);
	list_add_tail(&ev->link, &snap->events);
	spin_unlock_irqrestore(&snap->event_lock, flags);
	wake_up_all(&snap->event_wait);
}

/**
 * snapshot_set_error() - mark the snapshot corrupted; the first error wins
 * @snap: the snapshot
 * @dev: the device where it happened
 * @err: negative errno
 */
void snapshot_set_error(struct snapshot *snap, dev_t dev, int err)
{
	struct blksnap_event_corrupted data = {
		.dev_id_mj = MAJOR(dev),
		.dev_id_mn = MINOR(dev),
		.err_code = err,
	};

	if (cmpxchg(&snap->error, 0, err) != 0)
		return;
	pr_err("snapshot %pUb corrupted on %u:%u: error %d\n", &snap->id,
	       MAJOR(dev), MINOR(dev), err);
	snapshot_event(snap, blksnap_event_code_corrupted, &data, sizeof(data));
}

/* Called with blksnap_lock held. */
int snapshot_add_tracker(struct snapshot *snap, struct tracker *tracker)
{
	if (tracker->snapshot)
		return tracker->snapshot == snap ? -EALREADY : -EBUSY;
	if (snap->taken)
		return -EBUSY;
	if (snap->ds->dev == tracker->dev) {
		pr_err("the difference storage is on %u:%u, which is in the snapshot\n",
		       MAJOR(tracker->dev), MINOR(tracker->dev));
		return -EINVAL;
	}
	kref_get(&tracker->kref);
	tracker->snapshot = snap;
	list_add_tail(&tracker->snapshot_link, &snap->trackers);
	return 0;
}

/* Stop copy-on-write for the tracker; called with blksnap_lock held. */
static void snapshot_untake_tracker(struct tracker *tracker)
{
	struct diff_area *da;
	unsigned long flags;

	if (tracker->image) {
		snapimage_destroy(tracker->image);
		tracker->image = NULL;
	}
	spin_lock_irqsave(&tracker->lock, flags);
	da = tracker->diff_area;
	tracker->diff_area = NULL;
	spin_unlock_irqrestore(&tracker->lock, flags);
	if (da) {
		bdevfilter_sync();
		diff_area_destroy(da);
	}
}

/**
 * snapshot_remove_tracker() - the device leaves the snapshot (detach);
 * called with blksnap_lock held
 * @tracker: the tracker
 * @err: error the snapshot gets when it was taken
 */
void snapshot_remove_tracker(struct tracker *tracker, int err)
{
	struct snapshot *snap = tracker->snapshot;

	if (snap->taken)
		snapshot_set_error(snap, tracker->dev, err);
	snapshot_untake_tracker(tracker);
	list_del_init(&tracker->snapshot_link);
	tracker->snapshot = NULL;
	tracker_put(tracker);
}

/* Called with blksnap_lock held. */
static void snapshot_free(struct snapshot *snap)
{
	struct tracker *tracker, *tmp;

	list_del(&snap->link);
	list_for_each_entry_safe(tracker, tmp, &snap->trackers, snapshot_link) {
		snapshot_untake_tracker(tracker);
		list_del_init(&tracker->snapshot_link);
		tracker->snapshot = NULL;
		tracker_put(tracker);
	}
	diff_storage_close(snap->ds);
	snap->ds = NULL;
	WRITE_ONCE(snap->destroyed, true);
	wake_up_all(&snap->event_wait);
	pr_info("snapshot %pUb destroyed\n", &snap->id);
	kref_put(&snap->kref, snapshot_release);
}

int snapshot_create(struct blksnap_snapshot_create __user *arg)
{
	struct blksnap_snapshot_create karg;
	struct snapshot *snap;
	char *path;
	int ret;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	if (!karg.diff_storage_limit_sect)
		return -EINVAL;
	path = strndup_user(u64_to_user_ptr(karg.diff_storage_filename),
			    PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);

	snap = kzalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap) {
		ret = -ENOMEM;
		goto out_path;
	}
	kref_init(&snap->kref);
	INIT_LIST_HEAD(&snap->trackers);
	INIT_LIST_HEAD(&snap->events);
	spin_lock_init(&snap->event_lock);
	init_waitqueue_head(&snap->event_wait);
	uuid_gen(&snap->id);
	snap->ds = diff_storage_open(path, karg.diff_storage_limit_sect);
	if (IS_ERR(snap->ds)) {
		ret = PTR_ERR(snap->ds);
		kfree(snap);
		goto out_path;
	}
	snap->ds->snapshot = snap;
	export_uuid(karg.id.b, &snap->id);
	if (copy_to_user(&arg->id, &karg.id, sizeof(karg.id))) {
		diff_storage_close(snap->ds);
		kfree(snap);
		ret = -EFAULT;
		goto out_path;
	}
	mutex_lock(&blksnap_lock);
	list_add_tail(&snap->link, &snapshot_list);
	mutex_unlock(&blksnap_lock);
	pr_info("snapshot %pUb created, difference storage %s\n", &snap->id,
		path);
	ret = 0;
out_path:
	kfree(path);
	return ret;
}

int snapshot_destroy(const u8 *id)
{
	struct snapshot *snap;
	int ret = 0;

	mutex_lock(&blksnap_lock);
	snap = snapshot_find(id);
	if (snap)
		snapshot_free(snap);
	else
		ret = -ESRCH;
	mutex_unlock(&blksnap_lock);
	return ret;
}

void snapshot_destroy_all(void)
{
	struct snapshot *snap, *tmp;

	mutex_lock(&blksnap_lock);
	list_for_each_entry_safe(snap, tmp, &snapshot_list, link)
		snapshot_free(snap);
	mutex_unlock(&blksnap_lock);
}

/* Undo a partial take; called with blksnap_lock held. */
static void snapshot_untake(struct snapshot *snap)
{
	struct tracker *tracker;

	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		snapshot_untake_tracker(tracker);
		cbt_map_destroy(tracker->cbt_new);
		tracker->cbt_new = NULL;
	}
}

/* Build the diff areas and new CBT maps outside the freeze. */
static int snapshot_prepare(struct snapshot *snap, struct diff_area **areas)
{
	struct tracker *tracker;
	int i = 0;

	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		struct diff_area *da = diff_area_create(snap, tracker);

		if (IS_ERR(da))
			return PTR_ERR(da);
		areas[i++] = da;
		if (cbt_map_needs_reset(tracker->cbt, da->capacity)) {
			tracker->cbt_new = cbt_map_create(da->capacity);
			if (IS_ERR(tracker->cbt_new)) {
				int ret = PTR_ERR(tracker->cbt_new);

				tracker->cbt_new = NULL;
				return ret;
			}
		}
	}
	return diff_storage_prepare(snap->ds);
}

/* All devices at once: the images are consistent with each other. */
static void snapshot_switch(struct snapshot *snap, struct diff_area **areas)
{
	struct tracker *tracker;
	unsigned long flags;
	int i = 0;

	tracker_switch_lock();
	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		struct cbt_map *old = NULL;

		spin_lock_irqsave(&tracker->lock, flags);
		if (tracker->cbt_new) {
			old = tracker->cbt;
			tracker->cbt = tracker->cbt_new;
			tracker->cbt_new = NULL;
		}
		cbt_map_switch(tracker->cbt);
		tracker->diff_area = areas[i];
		areas[i++] = NULL;
		spin_unlock_irqrestore(&tracker->lock, flags);
		tracker->cbt_new = old;	/* freed after the switch */
	}
	tracker_switch_unlock();
}

static void snapshot_freeze(struct snapshot *snap, bool freeze)
{
	struct tracker *tracker;
	int ret;

	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		struct diff_area *da = tracker->diff_area;
		struct block_device *bdev;

		if (!da || da->frozen == freeze)
			continue;
		bdev = da->orig.bdev;
		ret = freeze ? compat_freeze_bdev(bdev) : compat_thaw_bdev(bdev);
		if (ret)
			pr_warn("%s %pg failed: %d\n", freeze ? "freeze" : "thaw",
				bdev, ret);
		else
			da->frozen = freeze;
	}
}

/* Wait for writes that passed the filter before the switch. */
static void snapshot_drain(struct snapshot *snap)
{
	struct tracker *tracker;

	bdevfilter_sync();
	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		struct request_queue *q;

		q = bdev_get_queue(tracker->diff_area->orig.bdev);
		blk_mq_freeze_queue(q);
		blk_mq_unfreeze_queue(q);
		cbt_map_destroy(tracker->cbt_new);
		tracker->cbt_new = NULL;
	}
}

static int snapshot_create_images(struct snapshot *snap)
{
	struct tracker *tracker;

	list_for_each_entry(tracker, &snap->trackers, snapshot_link) {
		struct snapimage *image;

		image = snapimage_create(tracker->diff_area);
		if (IS_ERR(image))
			return PTR_ERR(image);
		tracker->image = image;
	}
	return 0;
}

static int snapshot_take_locked(struct snapshot *snap)
{
	struct diff_area **areas;
	struct tracker *tracker;
	int count = 0, i, ret;

	list_for_each_entry(tracker, &snap->trackers, snapshot_link)
		count++;
	if (!count)
		return -ENODEV;
	areas = kcalloc(count, sizeof(*areas), GFP_KERNEL);
	if (!areas)
		return -ENOMEM;
	ret = snapshot_prepare(snap, areas);
	if (ret)
		goto out_free;

	/* freeze the file systems: they are written clean */
	for (i = 0; i < count; i++) {
		if (compat_freeze_bdev(areas[i]->orig.bdev))
			pr_warn("freeze %pg failed\n", areas[i]->orig.bdev);
		else
			areas[i]->frozen = true;
	}
	snapshot_switch(snap, areas);
	snapshot_drain(snap);
	snapshot_freeze(snap, false);

	ret = snapshot_create_images(snap);
	if (ret)
		goto out_free;
	snap->taken = true;
	pr_info("snapshot %pUb taken\n", &snap->id);
out_free:
	for (i = 0; i < count; i++) {
		if (areas[i])
			diff_area_destroy(areas[i]);
	}
	if (ret)
		snapshot_untake(snap);
	kfree(areas);
	return ret;
}

int snapshot_take(const u8 *id)
{
	struct snapshot *snap;
	int ret;

	mutex_lock(&blksnap_lock);
	snap = snapshot_find(id);
	if (!snap)
		ret = -ESRCH;
	else if (snap->taken)
		ret = -EALREADY;
	else
		ret = snapshot_take_locked(snap);
	mutex_unlock(&blksnap_lock);
	return ret;
}

int snapshot_collect(struct blksnap_snapshot_collect __user *arg)
{
	struct blksnap_snapshot_collect karg;
	struct snapshot *snap;
	u32 count = 0;
	int ret = 0;

	if (copy_from_user(&karg, arg, sizeof(karg)))
		return -EFAULT;
	mutex_lock(&blksnap_lock);
	list_for_each_entry(snap, &snapshot_list, link)
		count++;
	if (karg.count && count > karg.count) {
		ret = -ENODATA;
	} else if (karg.count) {
		struct blksnap_uuid __user *ids = u64_to_user_ptr(karg.ids);
		struct blksnap_uuid id;
		u32 i = 0;

		list_for_each_entry(snap, &snapshot_list, link) {
			export_uuid(id.b, &snap->id);
			if (copy_to_user(&ids[i++], &id, sizeof(id))) {
				ret = -EFAULT;
				break;
			}
		}
	}
	mutex_unlock(&blksnap_lock);
	if (put_user(count, &arg->count))
		return -EFAULT;
	return ret;
}

static struct snapshot_event *snapshot_pop_event(struct snapshot *snap)
{
	struct snapshot_event *ev;
	unsigned long flags;

	spin_lock_irqsave(&snap->event_lock, flags);
	ev = list_first_entry_or_null(&snap->events, struct snapshot_event,
				      link);
	if (ev)
		list_del(&ev->link);
	spin_unlock_irqrestore(&snap->event_lock, flags);
	return ev;
}

static bool snapshot_event_ready(struct snapshot *snap)
{
	return !list_empty_careful(&snap->events) || READ_ONCE(snap->destroyed);
}

static int snapshot_copy_event(struct blksnap_snapshot_event __user *arg,
			       struct snapshot_event *ev)
{
	struct blksnap_snapshot_event *out;
	int ret = 0;

	out = kzalloc(sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	if (copy_from_user(out, arg, offsetof(typeof(*out), code))) {
		ret = -EFAULT;
		goto out_free;
	}
	out->code = ev->code;
	out->time_label = ev->time_label;
	memcpy(out->data, ev->data, min(ev->size, sizeof(out->data)));
	if (copy_to_user(arg, out, sizeof(*out)))
		ret = -EFAULT;
out_free:
	kfree(out);
	return ret;
}

int snapshot_wait_event(struct blksnap_snapshot_event __user *arg)
{
	struct blksnap_uuid id;
	struct snapshot_event *ev;
	struct snapshot *snap;
	u32 timeout_ms;
	long left;
	int ret;

	if (copy_from_user(&id, &arg->id, sizeof(id)) ||
	    get_user(timeout_ms, &arg->timeout_ms))
		return -EFAULT;
	mutex_lock(&blksnap_lock);
	snap = snapshot_find(id.b);
	if (snap)
		kref_get(&snap->kref);
	mutex_unlock(&blksnap_lock);
	if (!snap)
		return -ESRCH;

	left = wait_event_interruptible_timeout(snap->event_wait,
						snapshot_event_ready(snap),
						msecs_to_jiffies(timeout_ms));
	if (left < 0) {
		ret = -EINTR;
		goto out_put;
	}
	ev = snapshot_pop_event(snap);
	if (!ev) {
		ret = READ_ONCE(snap->destroyed) ? -ESRCH : -ENOENT;
		goto out_put;
	}
	ret = snapshot_copy_event(arg, ev);
	kfree(ev);
out_put:
	kref_put(&snap->kref, snapshot_release);
	return ret;
}
