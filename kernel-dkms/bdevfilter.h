/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel interface of bdevfilter.ko: filters register by name and get
 * every bio submitted to the block devices they are attached to.
 */
#ifndef __BDEVFILTER_H
#define __BDEVFILTER_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/blk_types.h>

struct bdevfilter;

/**
 * struct bdevfilter_operations - a filter implementation
 * @name: name user space uses to attach the filter
 * @owner: module of the filter; pinned while attached
 * @attach: create the per-device state; called with the device frozen
 * @detach: release the per-device state; no submit_bio runs any more
 * @ctl: filter specific command; @optlen is in/out
 * @submit_bio: called for every bio of the device before it is queued;
 *	returns true when the filter consumed the bio (completed it, or
 *	will resubmit it with bdevfilter_resubmit_bio())
 */
struct bdevfilter_operations {
	struct list_head link;
	const char *name;
	struct module *owner;
	struct bdevfilter *(*attach)(struct block_device *bdev);
	void (*detach)(struct bdevfilter *flt);
	int (*ctl)(struct bdevfilter *flt, unsigned int cmd,
		   void __user *opt, u32 *optlen);
	bool (*submit_bio)(struct bdevfilter *flt, struct bio *bio);
};

/**
 * struct bdevfilter - per-device filter instance, embedded by the filter
 * @link: entry in the list of attached filters
 * @dev: the filtered block device
 * @disk: its disk; only compared with the disk being deleted
 * @ops: the filter implementation
 * @dead: the disk went away; detach is pending
 */
struct bdevfilter {
	struct list_head link;
	dev_t dev;
	struct gendisk *disk;
	const struct bdevfilter_operations *ops;
	bool dead;
};

int bdevfilter_register(struct bdevfilter_operations *ops);
void bdevfilter_unregister(struct bdevfilter_operations *ops);
void bdevfilter_resubmit_bio(struct bio *bio);
void bdevfilter_sync(void);

#endif /* __BDEVFILTER_H */
