// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write of one device in a taken snapshot. The device is split in
 * chunks; the first write to a chunk waits until the chunk's old data is
 * read and saved to the difference storage. Image reads take the chunk
 * lock, so a read and the copy of the same chunk never overlap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-diff-area: " fmt

#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/blkdev.h>
#include "blksnap.h"

/* The old data of one chunk, in pages. */
struct chunk_buf {
	unsigned int nr_pages;
	struct bio_vec bvec[];
};

static unsigned int diff_area_chunk_shift(sector_t capacity)
{
	unsigned int shift = chunk_minimum_shift - SECTOR_SHIFT;

	while (shift + SECTOR_SHIFT < chunk_maximum_shift &&
	       (capacity >> shift) > chunk_maximum_count)
		shift++;
	return shift;
}

/**
 * diff_area_create() - copy-on-write state for a device about to be taken
 * @snap: the snapshot
 * @tracker: the device
 */
struct diff_area *diff_area_create(struct snapshot *snap,
				   struct tracker *tracker)
{
	struct diff_area *da;
	int ret;

	da = kzalloc(sizeof(*da), GFP_KERNEL);
	if (!da)
		return ERR_PTR(-ENOMEM);
	ret = compat_bdev_open(tracker->dev, &da->orig);
	if (ret) {
		kfree(da);
		return ERR_PTR(ret);
	}
	da->snapshot = snap;
	da->tracker = tracker;
	da->capacity = bdev_nr_sectors(da->orig.bdev);
	da->chunk_shift = diff_area_chunk_shift(da->capacity);
	da->chunk_count = DIV_ROUND_UP_ULL(da->capacity, 1ULL << da->chunk_shift);
	xa_init(&da->chunks);
	return da;
}

void diff_area_destroy(struct diff_area *da)
{
	struct chunk *chunk;
	unsigned long index;

	if (da->frozen)
		compat_thaw_bdev(da->orig.bdev);
	xa_for_each(&da->chunks, index, chunk)
		kfree(chunk);
	xa_destroy(&da->chunks);
	compat_bdev_close(&da->orig);
	kfree(da);
}

static struct chunk *diff_area_chunk(struct diff_area *da, unsigned long nr)
{
	struct chunk *chunk, *old;

	chunk = xa_load(&da->chunks, nr);
	if (chunk)
		return chunk;
	chunk = kzalloc(sizeof(*chunk), GFP_NOIO);
	if (!chunk)
		return NULL;
	mutex_init(&chunk->lock);
	old = xa_cmpxchg(&da->chunks, nr, NULL, chunk, GFP_NOIO);
	if (!old)
		return chunk;
	kfree(chunk);
	return xa_is_err(old) ? NULL : old;
}

static sector_t diff_area_chunk_sectors(struct diff_area *da, unsigned long nr)
{
	sector_t start = (sector_t)nr << da->chunk_shift;

	return min_t(sector_t, 1ULL << da->chunk_shift, da->capacity - start);
}

static void chunk_buf_free(struct chunk_buf *buf)
{
	unsigned int i;

	for (i = 0; i < buf->nr_pages; i++)
		__free_page(buf->bvec[i].bv_page);
	kfree(buf);
}

static struct chunk_buf *chunk_buf_alloc(sector_t sectors)
{
	size_t bytes = (size_t)sectors << SECTOR_SHIFT;
	unsigned int n = DIV_ROUND_UP(bytes, PAGE_SIZE);
	struct chunk_buf *buf;
	unsigned int i;

	buf = kzalloc(struct_size(buf, bvec, n), GFP_NOIO);
	if (!buf)
		return NULL;
	for (i = 0; i < n; i++) {
		struct page *page = alloc_page(GFP_NOIO);

		if (!page) {
			chunk_buf_free(buf);
			return NULL;
		}
		buf->nr_pages++;
		bvec_set_page(&buf->bvec[i], page,
			      min_t(size_t, PAGE_SIZE, bytes - i * PAGE_SIZE), 0);
	}
	return buf;
}

/* Read the original data of a chunk; plain READ, never FUA. */
static int chunk_buf_read(struct diff_area *da, struct chunk_buf *buf,
			  sector_t sector)
{
	unsigned int i = 0;
	int ret = 0;

	while (i < buf->nr_pages && !ret) {
		unsigned int n = min_t(unsigned int, buf->nr_pages - i,
				       BIO_MAX_VECS);
		struct bio *bio;
		unsigned int j;

		bio = bio_alloc_bioset(da->orig.bdev, n, REQ_OP_READ, GFP_NOIO,
				       &blksnap_bioset);
		bio->bi_iter.bi_sector = sector;
		for (j = 0; j < n; j++, i++) {
			struct bio_vec *bv = &buf->bvec[i];

			__bio_add_page(bio, bv->bv_page, bv->bv_len, 0);
			sector += bv->bv_len >> SECTOR_SHIFT;
		}
		ret = submit_bio_wait(bio);
		bio_put(bio);
	}
	return ret;
}

static int chunk_buf_store(struct diff_storage *ds, struct chunk_buf *buf,
			   sector_t offset, sector_t sectors)
{
	size_t bytes = (size_t)sectors << SECTOR_SHIFT;
	loff_t pos = (loff_t)offset << SECTOR_SHIFT;
	struct iov_iter iter;
	ssize_t done;

	iov_iter_bvec(&iter, WRITE, buf->bvec, buf->nr_pages, bytes);
	file_start_write(ds->file);
	done = vfs_iter_write(ds->file, &iter, &pos, 0);
	file_end_write(ds->file);
	if (done < 0)
		return done;
	return done == bytes ? 0 : -EIO;
}

/* Save the old data of a chunk; called with the chunk locked. */
static int diff_area_copy(struct diff_area *da, unsigned long nr,
			  struct chunk *chunk)
{
	sector_t sectors = diff_area_chunk_sectors(da, nr);
	struct diff_storage *ds = da->snapshot->ds;
	struct chunk_buf *buf;
	sector_t offset;
	int ret;

	buf = chunk_buf_alloc(sectors);
	if (!buf)
		return -ENOMEM;
	ret = chunk_buf_read(da, buf, (sector_t)nr << da->chunk_shift);
	if (!ret)
		ret = diff_storage_alloc(ds, sectors, &offset);
	if (!ret)
		ret = chunk_buf_store(ds, buf, offset, sectors);
	chunk_buf_free(buf);
	if (ret)
		return ret;
	chunk->diff_offset = offset;
	WRITE_ONCE(chunk->state, CHUNK_STORED);
	return 0;
}

static bool diff_area_needs_copy(struct diff_area *da, unsigned long first,
				 unsigned long last)
{
	unsigned long nr;

	for (nr = first; nr <= last; nr++) {
		struct chunk *chunk = xa_load(&da->chunks, nr);

		if (!chunk || READ_ONCE(chunk->state) == CHUNK_NEW)
			return true;
	}
	return false;
}

/**
 * diff_area_cow() - save the old data of every chunk the write covers
 * @da: the device's diff area
 * @bio: a write, discard or write-zeroes bio
 *
 * Errors corrupt the snapshot; the write itself always goes on.
 * Return: -EAGAIN when a REQ_NOWAIT bio would have to wait, else 0.
 */
int diff_area_cow(struct diff_area *da, struct bio *bio)
{
	struct snapshot *snap = da->snapshot;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned long first, last, nr;
	int ret = 0;

	if (READ_ONCE(snap->error) || sector >= da->capacity)
		return 0;
	first = sector >> da->chunk_shift;
	last = min_t(sector_t, sector + bio_sectors(bio), da->capacity) - 1;
	last >>= da->chunk_shift;
	if (bio->bi_opf & REQ_NOWAIT)
		return diff_area_needs_copy(da, first, last) ? -EAGAIN : 0;

	for (nr = first; nr <= last && !ret; nr++) {
		struct chunk *chunk = diff_area_chunk(da, nr);

		if (!chunk) {
			ret = -ENOMEM;
			break;
		}
		if (READ_ONCE(chunk->state) != CHUNK_NEW)
			continue;
		mutex_lock(&chunk->lock);
		if (chunk->state == CHUNK_NEW && !READ_ONCE(snap->error)) {
			ret = diff_area_copy(da, nr, chunk);
			if (ret)
				WRITE_ONCE(chunk->state, CHUNK_FAILED);
		}
		mutex_unlock(&chunk->lock);
	}
	if (ret)
		snapshot_set_error(snap, da->tracker->dev, ret);
	return 0;
}

static int diff_area_read_stored(struct diff_area *da, struct chunk *chunk,
				 struct bio *bio, sector_t sector,
				 struct bvec_iter iter)
{
	sector_t start = sector & ((1ULL << da->chunk_shift) - 1);
	loff_t pos = (loff_t)(chunk->diff_offset + start) << SECTOR_SHIFT;
	struct file *file = da->snapshot->ds->file;
	struct bio_vec bv;

	__bio_for_each_segment(bv, bio, iter, iter) {
		struct iov_iter to;
		ssize_t done;

		iov_iter_bvec(&to, READ, &bv, 1, bv.bv_len);
		done = vfs_iter_read(file, &to, &pos, 0);
		if (done != bv.bv_len)
			return done < 0 ? done : -EIO;
	}
	return 0;
}

static int diff_area_write_stored(struct diff_area *da, struct chunk *chunk,
				  struct bio *bio, sector_t sector,
				  struct bvec_iter iter)
{
	sector_t start = sector & ((1ULL << da->chunk_shift) - 1);
	loff_t pos = (loff_t)(chunk->diff_offset + start) << SECTOR_SHIFT;
	struct file *file = da->snapshot->ds->file;
	struct bio_vec bv;
	int ret = 0;

	file_start_write(file);
	__bio_for_each_segment(bv, bio, iter, iter) {
		struct iov_iter from;
		ssize_t done;

		iov_iter_bvec(&from, WRITE, &bv, 1, bv.bv_len);
		done = vfs_iter_write(file, &from, &pos, 0);
		if (done != bv.bv_len) {
			ret = done < 0 ? done : -EIO;
			break;
		}
	}
	file_end_write(file);
	return ret;
}

static int diff_area_read_orig(struct diff_area *da, struct bio *bio,
			       sector_t sector, struct bvec_iter iter)
{
	struct bio *clone;
	int ret;

	clone = bio_alloc_clone(da->orig.bdev, bio, GFP_NOIO, &blksnap_bioset);
	if (!clone)
		return -ENOMEM;
	clone->bi_opf = REQ_OP_READ;
	clone->bi_iter = iter;
	clone->bi_iter.bi_sector = sector;
	ret = submit_bio_wait(clone);
	bio_put(clone);
	return ret;
}

/**
 * diff_area_read() - read a piece of an image bio that lies in one chunk
 * @da: the device's diff area
 * @bio: the image bio
 * @sector: first sector of the piece
 * @iter: the piece of @bio
 */
int diff_area_read(struct diff_area *da, struct bio *bio, sector_t sector,
		   struct bvec_iter iter)
{
	struct chunk *chunk;
	int ret;

	chunk = diff_area_chunk(da, sector >> da->chunk_shift);
	if (!chunk)
		return -ENOMEM;
	mutex_lock(&chunk->lock);
	switch (chunk->state) {
	case CHUNK_NEW:
		ret = diff_area_read_orig(da, bio, sector, iter);
		break;
	case CHUNK_STORED:
		ret = diff_area_read_stored(da, chunk, bio, sector, iter);
		break;
	default:
		ret = -EIO;
	}
	mutex_unlock(&chunk->lock);
	return ret;
}

/**
 * diff_area_write() - write a piece of an image bio that lies in one chunk;
 * the chunk's old data is saved first, then the piece goes to the
 * difference storage
 * @da: the device's diff area
 * @bio: the image bio
 * @sector: first sector of the piece
 * @iter: the piece of @bio
 */
int diff_area_write(struct diff_area *da, struct bio *bio, sector_t sector,
		    struct bvec_iter iter)
{
	unsigned long nr = sector >> da->chunk_shift;
	struct chunk *chunk;
	int ret = 0;

	chunk = diff_area_chunk(da, nr);
	if (!chunk)
		return -ENOMEM;
	mutex_lock(&chunk->lock);
	if (chunk->state == CHUNK_NEW) {
		ret = diff_area_copy(da, nr, chunk);
		if (ret) {
			WRITE_ONCE(chunk->state, CHUNK_FAILED);
			snapshot_set_error(da->snapshot, da->tracker->dev, ret);
		}
	}
	if (!ret)
		ret = chunk->state == CHUNK_STORED ?
		      diff_area_write_stored(da, chunk, bio, sector, iter) : -EIO;
	mutex_unlock(&chunk->lock);
	return ret;
}
