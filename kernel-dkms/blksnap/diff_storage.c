// SPDX-License-Identifier: GPL-2.0
/*
 * Difference storage: a linear allocator over a file (grown with fallocate
 * from a worker, in steps of diff_storage_minimum, up to the limit) or over
 * a block device (fixed size).
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-diff-storage: " fmt

#include <linux/fs.h>
#include <linux/file.h>
#include <linux/slab.h>
#include "blksnap.h"

static void diff_storage_grow(struct work_struct *work);

static int diff_storage_set_file(struct diff_storage *ds, sector_t limit)
{
	struct inode *inode = file_inode(ds->file);

	if (S_ISBLK(inode->i_mode)) {
		ds->dev = inode->i_rdev;
		ds->capacity = min_t(sector_t, limit,
				     i_size_read(ds->file->f_mapping->host) >>
				     SECTOR_SHIFT);
		ds->requested = ds->capacity;
		ds->growable = false;
		return ds->capacity ? 0 : -ENOSPC;
	}
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (!ds->file->f_op->fallocate)
		return -EOPNOTSUPP;
	ds->dev = inode->i_sb->s_dev;
	ds->growable = true;
	return 0;
}

/**
 * diff_storage_open() - open the difference storage of a new snapshot
 * @path: a directory (an unnamed temporary file is created in it), a
 *	regular file or a block device
 * @limit: maximum size in sectors
 */
struct diff_storage *diff_storage_open(const char *path, sector_t limit)
{
	const int flags = O_RDWR | O_LARGEFILE | O_NOATIME;
	struct diff_storage *ds;
	int ret;

	ds = kzalloc(sizeof(*ds), GFP_KERNEL);
	if (!ds)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&ds->lock);
	init_waitqueue_head(&ds->wait);
	INIT_WORK(&ds->grow_work, diff_storage_grow);
	ds->limit = limit;

	ds->file = filp_open(path, flags, 0);
	if (IS_ERR(ds->file) && PTR_ERR(ds->file) == -EISDIR)
		ds->file = filp_open(path, flags | O_TMPFILE, 0600);
	if (IS_ERR(ds->file)) {
		ret = PTR_ERR(ds->file);
		pr_err("cannot open %s: %d\n", path, ret);
		goto err_free;
	}
	ret = diff_storage_set_file(ds, limit);
	if (ret) {
		pr_err("cannot use %s: %d\n", path, ret);
		goto err_put;
	}
	return ds;

err_put:
	fput(ds->file);
err_free:
	kfree(ds);
	return ERR_PTR(ret);
}

void diff_storage_close(struct diff_storage *ds)
{
	cancel_work_sync(&ds->grow_work);
	fput(ds->file);
	kfree(ds);
}

static sector_t diff_storage_step(struct diff_storage *ds)
{
	return max_t(sector_t, diff_storage_minimum, 8);
}

/* Ask the worker for more space; called with ds->lock held. */
static void diff_storage_request(struct diff_storage *ds)
{
	sector_t want = ds->capacity + diff_storage_step(ds);

	if (!ds->growable || ds->requested > ds->capacity ||
	    ds->capacity >= ds->limit)
		return;
	if (want > ds->limit) {
		if (!ds->no_space_sent) {
			struct blksnap_event_no_space data = {
				.requested_nr_sect = want,
			};

			ds->no_space_sent = true;
			pr_warn("limit of %llu sectors reached\n",
				(unsigned long long)ds->limit);
			snapshot_event(ds->snapshot, blksnap_event_code_no_space,
				       &data, sizeof(data));
		}
		want = ds->limit;
	}
	ds->requested = want;
	queue_work(blksnap_wq, &ds->grow_work);
}

static void diff_storage_grow(struct work_struct *work)
{
	struct diff_storage *ds = container_of(work, struct diff_storage,
					       grow_work);
	sector_t from, to;
	int ret;

	spin_lock(&ds->lock);
	from = ds->capacity;
	to = ds->requested;
	spin_unlock(&ds->lock);
	if (to <= from)
		return;

	ret = vfs_fallocate(ds->file, 0, (loff_t)from << SECTOR_SHIFT,
			    (loff_t)(to - from) << SECTOR_SHIFT);
	spin_lock(&ds->lock);
	if (ret) {
		pr_err("cannot grow to %llu sectors: %d\n",
		       (unsigned long long)to, ret);
		ds->error = ret;
	} else {
		ds->capacity = to;
	}
	spin_unlock(&ds->lock);
	wake_up_all(&ds->wait);
}

/**
 * diff_storage_prepare() - allocate the first step before the take
 * @ds: the storage
 */
int diff_storage_prepare(struct diff_storage *ds)
{
	spin_lock(&ds->lock);
	if (!ds->capacity)
		diff_storage_request(ds);
	spin_unlock(&ds->lock);
	flush_work(&ds->grow_work);
	return ds->error;
}

static bool diff_storage_ready(struct diff_storage *ds, sector_t count)
{
	bool ready;

	spin_lock(&ds->lock);
	ready = ds->error || ds->filled + count <= ds->capacity ||
		ds->requested <= ds->capacity;
	spin_unlock(&ds->lock);
	return ready;
}

/**
 * diff_storage_alloc() - take space for one chunk; may wait for the worker
 * @ds: the storage
 * @count: sectors
 * @offset: out: first sector of the space
 *
 * Return: 0, -ENOSPC at the limit, or the error of the storage.
 */
int diff_storage_alloc(struct diff_storage *ds, sector_t count,
		       sector_t *offset)
{
	int ret;

	spin_lock(&ds->lock);
	for (;;) {
		if (ds->error) {
			ret = ds->error;
			break;
		}
		if (ds->filled + count <= ds->capacity) {
			*offset = ds->filled;
			ds->filled += count;
			if (ds->capacity - ds->filled < diff_storage_step(ds) / 2)
				diff_storage_request(ds);
			ret = 0;
			break;
		}
		if (!ds->growable || ds->capacity >= ds->limit) {
			ret = -ENOSPC;
			break;
		}
		diff_storage_request(ds);
		spin_unlock(&ds->lock);
		wait_event(ds->wait, diff_storage_ready(ds, count));
		spin_lock(&ds->lock);
	}
	spin_unlock(&ds->lock);
	return ret;
}
