// SPDX-License-Identifier: GPL-2.0
/*
 * Changed block tracking: one byte per block holding the number of the
 * snapshot generation in which the block last changed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME "-cbt: " fmt

#include <linux/vmalloc.h>
#include <linux/slab.h>
#include "blksnap.h"

static unsigned int cbt_block_shift(sector_t capacity)
{
	unsigned int shift = tracking_block_minimum_shift;
	u64 bytes = (u64)capacity << SECTOR_SHIFT;

	while (shift < tracking_block_maximum_shift &&
	       DIV_ROUND_UP_ULL(bytes, 1ULL << shift) > tracking_block_maximum_count)
		shift++;
	return shift;
}

/**
 * cbt_map_create() - a new map with a new generation id
 * @capacity: device size in sectors
 */
struct cbt_map *cbt_map_create(sector_t capacity)
{
	struct cbt_map *cbt;
	u64 count;

	cbt = kzalloc(sizeof(*cbt), GFP_KERNEL);
	if (!cbt)
		return ERR_PTR(-ENOMEM);
	cbt->capacity = capacity;
	cbt->block_shift = cbt_block_shift(capacity);
	count = DIV_ROUND_UP_ULL((u64)capacity << SECTOR_SHIFT,
				 1ULL << cbt->block_shift);
	if (!count || count > U32_MAX)
		goto err_free;
	cbt->block_count = count;
	cbt->write_map = vzalloc(count);
	cbt->read_map = vzalloc(count);
	if (!cbt->write_map || !cbt->read_map)
		goto err_free;
	cbt->active = 1;
	cbt->previous = 0;
	uuid_gen(&cbt->generation_id);
	return cbt;

err_free:
	vfree(cbt->write_map);
	vfree(cbt->read_map);
	kfree(cbt);
	return ERR_PTR(-ENOMEM);
}

void cbt_map_destroy(struct cbt_map *cbt)
{
	if (!cbt)
		return;
	vfree(cbt->write_map);
	vfree(cbt->read_map);
	kfree(cbt);
}

static bool cbt_map_range(struct cbt_map *cbt, sector_t sector, sector_t count,
			  u32 *first, u32 *last)
{
	unsigned int shift = cbt->block_shift - SECTOR_SHIFT;

	if (!count || sector >= cbt->capacity)
		return false;
	count = min_t(sector_t, count, cbt->capacity - sector);
	*first = sector >> shift;
	*last = (sector + count - 1) >> shift;
	return true;
}

static void cbt_mark_map(u8 *map, u32 first, u32 last, u8 number)
{
	u32 b;

	for (b = first; b <= last; b++) {
		if (map[b] < number)
			map[b] = number;
	}
}

/**
 * cbt_map_mark() - record a change; caller holds the tracker lock
 * @cbt: the map
 * @sector: first changed sector
 * @count: number of changed sectors
 */
void cbt_map_mark(struct cbt_map *cbt, sector_t sector, sector_t count)
{
	u32 first, last;

	if (cbt_map_range(cbt, sector, count, &first, &last))
		cbt_mark_map(cbt->write_map, first, last, cbt->active);
}

/**
 * cbt_map_mark_both() - mark a range in the write and the read map
 * @cbt: the map
 * @sector: first sector
 * @count: number of sectors
 */
void cbt_map_mark_both(struct cbt_map *cbt, sector_t sector, sector_t count)
{
	u32 first, last;

	if (!cbt_map_range(cbt, sector, count, &first, &last))
		return;
	cbt_mark_map(cbt->write_map, first, last, cbt->active);
	cbt_mark_map(cbt->read_map, first, last, cbt->active);
}

/**
 * cbt_map_needs_reset() - the map must restart at the next take
 * @cbt: the map
 * @capacity: current capacity of the device
 */
bool cbt_map_needs_reset(struct cbt_map *cbt, sector_t capacity)
{
	return cbt->capacity != capacity || cbt->active == U8_MAX;
}

/**
 * cbt_map_switch() - freeze the read map at take; caller holds the lock
 * @cbt: the map
 */
void cbt_map_switch(struct cbt_map *cbt)
{
	cbt->previous = cbt->active;
	cbt->active++;
	memcpy(cbt->read_map, cbt->write_map, cbt->block_count);
}
