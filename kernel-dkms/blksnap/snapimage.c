// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot images: bio-based disks that return the data of the original
 * device as it was at take. Writes to an image go to the difference
 * storage (after the chunk's old data) and mark the CBT map. Bios are served by a worker, since
 * reading the difference storage file must not run in the submitter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-image: " fmt

#include <linux/blkdev.h>
#include <linux/slab.h>
#include "blksnap.h"

struct snapimage {
	struct gendisk *disk;
	struct diff_area *da;
	spinlock_t lock;		/* protects bios */
	struct bio_list bios;
	struct work_struct work;
};

const char *snapimage_name(struct snapimage *image)
{
	return image->disk->disk_name;
}

static int snapimage_rw(struct snapimage *image, struct bio *bio, bool write)
{
	struct diff_area *da = image->da;
	struct bvec_iter iter = bio->bi_iter;
	int ret = 0;

	if (bio_end_sector(bio) > da->capacity)
		return -EIO;
	while (iter.bi_size && !ret) {
		sector_t sector = iter.bi_sector;
		sector_t chunk_end = ((sector >> da->chunk_shift) + 1) <<
				     da->chunk_shift;
		struct bvec_iter piece = iter;
		unsigned int bytes;

		bytes = min_t(u64, iter.bi_size,
			      (u64)(chunk_end - sector) << SECTOR_SHIFT);
		piece.bi_size = bytes;
		if (READ_ONCE(da->snapshot->error))
			ret = -EIO;
		else if (write)
			ret = diff_area_write(da, bio, sector, piece);
		else
			ret = diff_area_read(da, bio, sector, piece);
		bio_advance_iter(bio, &iter, bytes);
	}
	if (!ret && READ_ONCE(da->snapshot->error))
		ret = -EIO;
	return ret;
}

/* The next incremental backup must read what was written to the image. */
static void snapimage_mark_cbt(struct snapimage *image, struct bio *bio)
{
	struct tracker *tracker = image->da->tracker;
	unsigned long flags;

	spin_lock_irqsave(&tracker->lock, flags);
	cbt_map_mark_both(tracker->cbt, bio->bi_iter.bi_sector,
			  bio_sectors(bio));
	spin_unlock_irqrestore(&tracker->lock, flags);
}

static void snapimage_handle(struct snapimage *image, struct bio *bio)
{
	int ret;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		ret = snapimage_rw(image, bio, false);
		break;
	case REQ_OP_WRITE:
		ret = snapimage_rw(image, bio, true);
		snapimage_mark_cbt(image, bio);
		break;
	case REQ_OP_FLUSH:
		ret = 0;
		break;
	default:
		ret = -EROFS;
	}
	bio->bi_status = errno_to_blk_status(ret);
	bio_endio(bio);
}

static void snapimage_work(struct work_struct *work)
{
	struct snapimage *image = container_of(work, struct snapimage, work);
	struct bio *bio;

	for (;;) {
		spin_lock_irq(&image->lock);
		bio = bio_list_pop(&image->bios);
		spin_unlock_irq(&image->lock);
		if (!bio)
			break;
		snapimage_handle(image, bio);
		cond_resched();
	}
}

static void snapimage_submit_bio(struct bio *bio)
{
	struct snapimage *image = bio->bi_bdev->bd_disk->private_data;
	unsigned long flags;

	spin_lock_irqsave(&image->lock, flags);
	bio_list_add(&image->bios, bio);
	spin_unlock_irqrestore(&image->lock, flags);
	queue_work(blksnap_wq, &image->work);
}

static const struct block_device_operations snapimage_fops = {
	.owner = THIS_MODULE,
	.submit_bio = snapimage_submit_bio,
};

/**
 * snapimage_create() - add the image disk blksnap-<major>-<minor>
 * @da: the diff area of the taken device
 */
struct snapimage *snapimage_create(struct diff_area *da)
{
	struct snapimage *image;
	struct gendisk *disk;
	int ret;

	image = kzalloc(sizeof(*image), GFP_KERNEL);
	if (!image)
		return ERR_PTR(-ENOMEM);
	image->da = da;
	spin_lock_init(&image->lock);
	bio_list_init(&image->bios);
	INIT_WORK(&image->work, snapimage_work);

	disk = compat_alloc_disk(da->orig.bdev);
	if (IS_ERR_OR_NULL(disk)) {
		ret = disk ? PTR_ERR(disk) : -ENOMEM;
		goto err_free;
	}
	image->disk = disk;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &snapimage_fops;
	disk->private_data = image;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "blksnap-%u-%u",
		 MAJOR(da->tracker->dev), MINOR(da->tracker->dev));
	set_capacity(disk, bdev_nr_sectors(da->orig.bdev));
	ret = add_disk(disk);
	if (ret) {
		pr_err("cannot add %s: %d\n", disk->disk_name, ret);
		goto err_put;
	}
	pr_info("%s created\n", disk->disk_name);
	return image;

err_put:
	put_disk(disk);
err_free:
	kfree(image);
	return ERR_PTR(ret);
}

void snapimage_destroy(struct snapimage *image)
{
	pr_info("%s removed\n", image->disk->disk_name);
	del_gendisk(image->disk);
	flush_work(&image->work);
	put_disk(image->disk);
	kfree(image);
}
