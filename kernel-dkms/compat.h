/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between kernel versions, detected by the compile probes in
 * probes/ (see Kbuild), never by version numbers.
 */
#ifndef __BLOCKVAULT_COMPAT_H
#define __BLOCKVAULT_COMPAT_H

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/ftrace.h>

#ifdef HAVE_FTRACE_REGS_SET_IP
#define compat_ftrace_set_ip(fregs, ip) \
	ftrace_regs_set_instruction_pointer(fregs, ip)
#else
#define compat_ftrace_set_ip(fregs, ip) \
	ftrace_instruction_pointer_set(fregs, ip)
#endif

#ifdef HAVE_SUBMIT_BIO_NOACCT_QC
#define COMPAT_SUBMIT_RET blk_qc_t
#else
#define COMPAT_SUBMIT_RET void
#endif

static inline int compat_freeze_bdev(struct block_device *bdev)
{
#ifdef HAVE_BDEV_FREEZE
	return bdev_freeze(bdev);
#else
	return freeze_bdev(bdev);
#endif
}

static inline int compat_thaw_bdev(struct block_device *bdev)
{
#ifdef HAVE_BDEV_FREEZE
	return bdev_thaw(bdev);
#else
	return thaw_bdev(bdev);
#endif
}

/* An opened block device, read-only, no holder. */
struct compat_bdev {
	struct block_device *bdev;
#ifdef HAVE_BDEV_FILE_OPEN
	struct file *file;
#endif
};

static inline int compat_bdev_open(dev_t dev, struct compat_bdev *cb)
{
#if defined(HAVE_BDEV_FILE_OPEN)
	cb->file = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
	if (IS_ERR(cb->file))
		return PTR_ERR(cb->file);
	cb->bdev = file_bdev(cb->file);
#elif defined(HAVE_BLKDEV_GET_HOLDER_OPS)
	cb->bdev = blkdev_get_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
#else
	cb->bdev = blkdev_get_by_dev(dev, FMODE_READ, NULL);
#endif
	if (IS_ERR(cb->bdev))
		return PTR_ERR(cb->bdev);
	return 0;
}

static inline void compat_bdev_close(struct compat_bdev *cb)
{
#if defined(HAVE_BDEV_FILE_OPEN)
	fput(cb->file);
#elif defined(HAVE_BLKDEV_GET_HOLDER_OPS)
	blkdev_put(cb->bdev, NULL);
#else
	blkdev_put(cb->bdev, FMODE_READ);
#endif
	cb->bdev = NULL;
}

/* A bio-based disk with the block sizes of @orig; NULL or ERR_PTR on error. */
static inline struct gendisk *compat_alloc_disk(struct block_device *orig)
{
#ifdef HAVE_BLK_ALLOC_DISK_LIM
	struct queue_limits lim = {
		.logical_block_size = bdev_logical_block_size(orig),
		.physical_block_size = bdev_physical_block_size(orig),
		.io_min = bdev_io_min(orig),
	};

	return blk_alloc_disk(&lim, NUMA_NO_NODE);
#else
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);

	if (disk) {
		blk_queue_logical_block_size(disk->queue,
					     bdev_logical_block_size(orig));
		blk_queue_physical_block_size(disk->queue,
					      bdev_physical_block_size(orig));
		blk_queue_io_min(disk->queue, bdev_io_min(orig));
	}
	return disk;
#endif
}

#endif /* __BLOCKVAULT_COMPAT_H */
