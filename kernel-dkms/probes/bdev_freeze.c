// SPDX-License-Identifier: GPL-2.0
#include <linux/blkdev.h>
int probe(struct block_device *bdev);
int probe(struct block_device *bdev)
{
	return bdev_freeze(bdev);
}
