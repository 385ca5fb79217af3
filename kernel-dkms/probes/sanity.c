// SPDX-License-Identifier: GPL-2.0
/* Always compiles: proves the probe command line works for this kernel. */
#include <linux/blkdev.h>
void probe(struct bio *bio);
void probe(struct bio *bio)
{
	submit_bio_noacct(bio);
}
