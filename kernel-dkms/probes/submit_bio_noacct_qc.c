// SPDX-License-Identifier: GPL-2.0
#include <linux/blkdev.h>
blk_qc_t probe(struct bio *bio);
blk_qc_t probe(struct bio *bio)
{
	return submit_bio_noacct(bio);
}
