/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * blksnap: block device snapshots and change tracking.
 *
 * Per-device commands go through BDEVFILTER_CTL with the filter name
 * "blksnap"; snapshot commands go to the misc device /dev/blksnap-control.
 * All pointers travel as __u64; all structures have explicit padding.
 */
#ifndef _UAPI_LINUX_BLKSNAP_H
#define _UAPI_LINUX_BLKSNAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BLKSNAP_FILTER_NAME	"blksnap"
#define BLKSNAP_CTL_NAME	"blksnap-control"
#define BLKSNAP_ID_LENGTH	16
#define BLKSNAP_IMAGE_NAME_LENGTH 32

#define BLKSNAP_VERSION_MAJOR	2
#define BLKSNAP_VERSION_MINOR	0

/* BDEVFILTER_CTL commands of the "blksnap" filter */
enum blksnap_filter_ctl {
	BLKSNAP_FILTER_CTL_CBTINFO = 0,
	BLKSNAP_FILTER_CTL_CBTMAP = 1,
	BLKSNAP_FILTER_CTL_CBTDIRTY = 2,
	BLKSNAP_FILTER_CTL_SNAPSHOTADD = 3,
	BLKSNAP_FILTER_CTL_SNAPSHOTINFO = 4,
};

/**
 * struct blksnap_cbtinfo - tracker state (CBTINFO, out)
 * @device_capacity: device capacity in bytes
 * @block_size: CBT block size in bytes
 * @block_count: number of CBT blocks
 * @generation_id: changes when the map restarts
 * @changes_number: number that was active before the last take
 * @padding: reserved, zero
 */
struct blksnap_cbtinfo {
	__u64 device_capacity;
	__u32 block_size;
	__u32 block_count;
	__u8 generation_id[16];
	__u8 changes_number;
	__u8 padding[7];
};

/**
 * struct blksnap_cbtmap - read a piece of the frozen CBT map (CBTMAP, in)
 * @offset: first byte (block) of the map to copy
 * @length: number of bytes to copy
 * @buffer: user pointer to at least @length bytes
 */
struct blksnap_cbtmap {
	__u32 offset;
	__u32 length;
	__u64 buffer;
};

/**
 * struct blksnap_sectors - a range of sectors
 * @offset: first sector
 * @count: number of sectors
 */
struct blksnap_sectors {
	__u64 offset;
	__u64 count;
};

/**
 * struct blksnap_cbtdirty - mark ranges as changed (CBTDIRTY, in)
 * @count: number of ranges
 * @padding: reserved, zero
 * @dirty_sectors: user pointer to @count struct blksnap_sectors
 */
struct blksnap_cbtdirty {
	__u32 count;
	__u32 padding;
	__u64 dirty_sectors;
};

/**
 * struct blksnap_snapshotadd - add the device to a snapshot (SNAPSHOTADD, in)
 * @id: snapshot id
 */
struct blksnap_snapshotadd {
	__u8 id[BLKSNAP_ID_LENGTH];
};

/**
 * struct blksnap_snapshotinfo - snapshot state of the device (SNAPSHOTINFO, out)
 * @error_code: 0 or a negative errno (-ENOSPC after an overflow)
 * @image: name of the image disk under /dev, empty until taken
 */
struct blksnap_snapshotinfo {
	__s32 error_code;
	__u8 image[BLKSNAP_IMAGE_NAME_LENGTH];
};

/**
 * struct blksnap_version - module version (IOCTL_BLKSNAP_VERSION, out)
 */
struct blksnap_version {
	__u16 major;
	__u16 minor;
	__u16 revision;
	__u16 build;
};

/**
 * struct blksnap_uuid - snapshot id
 */
struct blksnap_uuid {
	__u8 b[BLKSNAP_ID_LENGTH];
};

/**
 * struct blksnap_snapshot_create - IOCTL_BLKSNAP_SNAPSHOT_CREATE argument
 * @diff_storage_limit_sect: the difference storage grows up to this size
 * @diff_storage_filename: user pointer to a path: directory, file or device
 * @id: out: id of the new snapshot
 */
struct blksnap_snapshot_create {
	__u64 diff_storage_limit_sect;
	__u64 diff_storage_filename;
	struct blksnap_uuid id;
};

/**
 * struct blksnap_snapshot_collect - IOCTL_BLKSNAP_SNAPSHOT_COLLECT argument
 * @count: in: size of the array at @ids; out: number of snapshots
 * @padding: reserved, zero
 * @ids: user pointer to @count struct blksnap_uuid
 */
struct blksnap_snapshot_collect {
	__u32 count;
	__u32 padding;
	__u64 ids;
};

enum blksnap_event_codes {
	blksnap_event_code_corrupted = 0,
	blksnap_event_code_no_space = 1,
};

#define BLKSNAP_EVENT_DATA_SIZE	4064

/**
 * struct blksnap_snapshot_event - IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT argument
 * @id: snapshot id
 * @timeout_ms: how long to wait, in milliseconds
 * @code: out: event code
 * @time_label: out: when the event happened, ns of CLOCK_REALTIME
 * @data: out: event payload
 */
struct blksnap_snapshot_event {
	struct blksnap_uuid id;
	__u32 timeout_ms;
	__u32 code;
	__s64 time_label;
	__u8 data[BLKSNAP_EVENT_DATA_SIZE];
};

/**
 * struct blksnap_event_corrupted - payload of blksnap_event_code_corrupted
 * @dev_id_mj: major of the original device
 * @dev_id_mn: minor of the original device
 * @err_code: negative errno
 */
struct blksnap_event_corrupted {
	__u32 dev_id_mj;
	__u32 dev_id_mn;
	__s32 err_code;
};

/**
 * struct blksnap_event_no_space - payload of blksnap_event_code_no_space
 * @requested_nr_sect: size the difference storage needed to grow to
 */
struct blksnap_event_no_space {
	__u64 requested_nr_sect;
};

#define BLKSNAP 'V'

#define IOCTL_BLKSNAP_VERSION		_IOR(BLKSNAP, 0, struct blksnap_version)
#define IOCTL_BLKSNAP_SNAPSHOT_CREATE	_IOWR(BLKSNAP, 1, struct blksnap_snapshot_create)
#define IOCTL_BLKSNAP_SNAPSHOT_DESTROY	_IOW(BLKSNAP, 2, struct blksnap_uuid)
#define IOCTL_BLKSNAP_SNAPSHOT_TAKE	_IOW(BLKSNAP, 3, struct blksnap_uuid)
#define IOCTL_BLKSNAP_SNAPSHOT_COLLECT	_IOR(BLKSNAP, 4, struct blksnap_snapshot_collect)
#define IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT _IOR(BLKSNAP, 5, struct blksnap_snapshot_event)

#endif /* _UAPI_LINUX_BLKSNAP_H */
