/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Block device filter control interface (misc device /dev/bdevfilter).
 *
 * Filters (for example "blksnap") are attached to a block device named by
 * its path. All pointers travel as __u64; the layouts are identical for
 * 32-bit and 64-bit user space.
 */
#ifndef _UAPI_LINUX_BDEVFILTER_H
#define _UAPI_LINUX_BDEVFILTER_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BDEVFILTER_NAME_LENGTH	32

/**
 * struct bdevfilter_name - argument of BDEVFILTER_ATTACH and BDEVFILTER_DETACH
 * @devpath: user pointer to a NUL-terminated path of the block device
 * @name: name of the filter, NUL-padded
 */
struct bdevfilter_name {
	__u64 devpath;
	__u8 name[BDEVFILTER_NAME_LENGTH];
};

/**
 * struct bdevfilter_ctl - argument of BDEVFILTER_CTL
 * @devpath: user pointer to a NUL-terminated path of the block device
 * @name: name of the filter, NUL-padded
 * @cmd: filter specific command
 * @optlen: in: size of the buffer at @opt; out: size used
 * @opt: user pointer to the command argument
 */
struct bdevfilter_ctl {
	__u64 devpath;
	__u8 name[BDEVFILTER_NAME_LENGTH];
	__u32 cmd;
	__u32 optlen;
	__u64 opt;
};

#define BDEVFILTER_ATTACH	_IOWR('F', 140, struct bdevfilter_name)
#define BDEVFILTER_DETACH	_IOWR('F', 141, struct bdevfilter_name)
#define BDEVFILTER_CTL		_IOWR('F', 142, struct bdevfilter_ctl)

#endif /* _UAPI_LINUX_BDEVFILTER_H */
