/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blksnap internals: trackers (the bdevfilter instances with the CBT map),
 * snapshots, difference storage, difference areas (copy-on-write per
 * device) and image disks.
 */
#ifndef __BLKSNAP_H
#define __BLKSNAP_H

#include <linux/types.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/uuid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/bio.h>

#include "../compat.h"
#include "../bdevfilter.h"
#include "../include/uapi/linux/blksnap.h"

extern unsigned int tracking_block_minimum_shift;
extern unsigned int tracking_block_maximum_shift;
extern unsigned int tracking_block_maximum_count;
extern unsigned int chunk_minimum_shift;
extern unsigned int chunk_maximum_shift;
extern unsigned int chunk_maximum_count;
extern unsigned long diff_storage_minimum;

extern struct mutex blksnap_lock;
extern struct workqueue_struct *blksnap_wq;
extern struct bio_set blksnap_bioset;

/* cbt.c: one byte per block, the generation number of the last change */
struct cbt_map {
	sector_t capacity;
	unsigned int block_shift;	/* log2 of the block size in bytes */
	u32 block_count;
	u8 active;			/* number written on a change */
	u8 previous;			/* active before the last take */
	uuid_t generation_id;
	u8 *write_map;
	u8 *read_map;
};

struct cbt_map *cbt_map_create(sector_t capacity);
void cbt_map_destroy(struct cbt_map *cbt);
void cbt_map_mark(struct cbt_map *cbt, sector_t sector, sector_t count);
void cbt_map_mark_both(struct cbt_map *cbt, sector_t sector, sector_t count);
bool cbt_map_needs_reset(struct cbt_map *cbt, sector_t capacity);
void cbt_map_switch(struct cbt_map *cbt);

struct snapshot;
struct diff_area;
struct snapimage;

/* tracker.c: the "blksnap" filter on one device */
struct tracker {
	struct bdevfilter filter;
	struct kref kref;
	dev_t dev;
	spinlock_t lock;		/* cbt marks, cbt and diff_area pointers */
	struct cbt_map *cbt;
	struct diff_area *diff_area;	/* set while a snapshot is taken */
	/* under blksnap_lock: */
	struct snapshot *snapshot;
	struct list_head snapshot_link;
	struct cbt_map *cbt_new;	/* prepared at take when a reset is due */
	struct snapimage *image;
};

int tracker_init(void);
void tracker_done(void);
void tracker_put(struct tracker *tracker);
void tracker_switch_lock(void);
void tracker_switch_unlock(void);

/* snapshot.c */
struct diff_storage;

struct snapshot {
	struct list_head link;
	struct kref kref;
	uuid_t id;
	struct diff_storage *ds;
	struct list_head trackers;
	bool taken;
	bool destroyed;
	int error;			/* first error, negative errno */
	spinlock_t event_lock;
	struct list_head events;
	wait_queue_head_t event_wait;
};

struct snapshot *snapshot_find(const u8 *id);
void snapshot_set_error(struct snapshot *snap, dev_t dev, int err);
void snapshot_event(struct snapshot *snap, u32 code, const void *data,
		    size_t size);
int snapshot_add_tracker(struct snapshot *snap, struct tracker *tracker);
void snapshot_remove_tracker(struct tracker *tracker, int err);
int snapshot_create(struct blksnap_snapshot_create __user *arg);
int snapshot_destroy(const u8 *id);
int snapshot_take(const u8 *id);
int snapshot_collect(struct blksnap_snapshot_collect __user *arg);
int snapshot_wait_event(struct blksnap_snapshot_event __user *arg);
void snapshot_destroy_all(void);

/* diff_storage.c: the file (or device) the old data goes to */
struct diff_storage {
	struct file *file;
	dev_t dev;			/* device the storage lives on */
	bool growable;
	spinlock_t lock;		/* the sizes, error, no_space_sent */
	sector_t limit;
	sector_t capacity;
	sector_t requested;
	sector_t filled;
	int error;
	bool no_space_sent;
	wait_queue_head_t wait;
	struct work_struct grow_work;
	struct snapshot *snapshot;
};

struct diff_storage *diff_storage_open(const char *path, sector_t limit);
void diff_storage_close(struct diff_storage *ds);
int diff_storage_prepare(struct diff_storage *ds);
int diff_storage_alloc(struct diff_storage *ds, sector_t count,
		       sector_t *offset);

/* diff_area.c: copy-on-write state of one device in a taken snapshot */
enum chunk_state {
	CHUNK_NEW = 0,
	CHUNK_STORED,
	CHUNK_FAILED,
};

struct chunk {
	struct mutex lock;		/* held while copied, read or written */
	int state;
	sector_t diff_offset;
};

struct diff_area {
	struct snapshot *snapshot;
	struct tracker *tracker;
	struct compat_bdev orig;
	sector_t capacity;
	unsigned int chunk_shift;	/* log2 of the chunk size in sectors */
	unsigned long chunk_count;
	struct xarray chunks;
	bool frozen;
};

struct diff_area *diff_area_create(struct snapshot *snap,
				   struct tracker *tracker);
void diff_area_destroy(struct diff_area *da);
int diff_area_cow(struct diff_area *da, struct bio *bio);
int diff_area_read(struct diff_area *da, struct bio *bio, sector_t sector,
		   struct bvec_iter iter);
int diff_area_write(struct diff_area *da, struct bio *bio, sector_t sector,
		    struct bvec_iter iter);

/* snapimage.c: the disk that reads the point-in-time data */
struct snapimage *snapimage_create(struct diff_area *da);
void snapimage_destroy(struct snapimage *image);
const char *snapimage_name(struct snapimage *image);

#endif /* __BLKSNAP_H */
