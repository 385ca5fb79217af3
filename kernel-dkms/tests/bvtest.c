// SPDX-License-Identifier: GPL-2.0
/*
 * bvtest: test program run inside the VM against the blksnap UAPI.
 * Usage: bvtest <case> [args...]; prints "RESULT PASS|FAIL <case>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <linux/loop.h>

#include <linux/bdevfilter.h>
#include <linux/blksnap.h>

_Static_assert(sizeof(struct bdevfilter_name) == 40, "bdevfilter_name");
_Static_assert(sizeof(struct bdevfilter_ctl) == 56, "bdevfilter_ctl");
_Static_assert(sizeof(struct blksnap_cbtinfo) == 40, "cbtinfo");
_Static_assert(sizeof(struct blksnap_snapshotinfo) == 36, "snapshotinfo");
_Static_assert(sizeof(struct blksnap_snapshot_create) == 32, "create");
_Static_assert(sizeof(struct blksnap_snapshot_event) == 4096, "event");
_Static_assert(BDEVFILTER_ATTACH == 0xC028468C, "attach nr");
_Static_assert(BDEVFILTER_DETACH == 0xC028468D, "detach nr");
_Static_assert(BDEVFILTER_CTL == 0xC038468E, "ctl nr");
_Static_assert(IOCTL_BLKSNAP_VERSION == 0x80085600, "version nr");
_Static_assert(IOCTL_BLKSNAP_SNAPSHOT_CREATE == 0xC0205601, "create nr");
_Static_assert(IOCTL_BLKSNAP_SNAPSHOT_DESTROY == 0x40105602, "destroy nr");
_Static_assert(IOCTL_BLKSNAP_SNAPSHOT_TAKE == 0x40105603, "take nr");
_Static_assert(IOCTL_BLKSNAP_SNAPSHOT_COLLECT == 0x80105604, "collect nr");
_Static_assert(IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT == 0x90005605, "wait nr");

#define IO_SIZE (1 << 20)
#define DIFF_DIR "/diff"

static const char *case_name = "?";

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("RESULT FAIL %s: ", case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)
#define CHECK_ERRNO(expr, err) do { \
	errno = 0; \
	int r_ = (expr); \
	if (r_ != -1 || errno != (err)) \
		fail("%s: expected errno %s, got ret %d errno %d (%s)", #expr, \
		     strerror(err), r_, errno, strerror(errno)); \
	} while (0)
#define CHECK_OK(expr) do { \
	if ((expr) < 0) \
		fail("%s: %s", #expr, strerror(errno)); \
	} while (0)

static void pass(void)
{
	printf("RESULT PASS %s\n", case_name);
	fflush(stdout);
	exit(0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- UAPI wrappers ---- */

static int ctl_fd(const char *name)
{
	int fd = open(name, O_RDWR);

	if (fd < 0)
		fail("open %s: %s", name, strerror(errno));
	return fd;
}

static int filter_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = ctl_fd("/dev/bdevfilter");
	return fd;
}

static int snap_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = ctl_fd("/dev/" BLKSNAP_CTL_NAME);
	return fd;
}

static int bf_call(unsigned long cmd, const char *dev, const char *name)
{
	struct bdevfilter_name arg = { .devpath = (uintptr_t)dev };

	memcpy(arg.name, name, strnlen(name, sizeof(arg.name) - 1));
	return ioctl(filter_fd(), cmd, &arg);
}

static int attach(const char *dev)
{
	return bf_call(BDEVFILTER_ATTACH, dev, BLKSNAP_FILTER_NAME);
}

static int detach(const char *dev)
{
	return bf_call(BDEVFILTER_DETACH, dev, BLKSNAP_FILTER_NAME);
}

static int bf_ctl(const char *dev, unsigned int cmd, void *opt, uint32_t len)
{
	struct bdevfilter_ctl arg = {
		.devpath = (uintptr_t)dev,
		.cmd = cmd,
		.optlen = len,
		.opt = (uintptr_t)opt,
	};

	strcpy((char *)arg.name, BLKSNAP_FILTER_NAME);
	return ioctl(filter_fd(), BDEVFILTER_CTL, &arg);
}

static struct blksnap_cbtinfo cbtinfo(const char *dev)
{
	struct blksnap_cbtinfo info;

	CHECK_OK(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTINFO, &info, sizeof(info)));
	return info;
}

static uint8_t *cbtmap(const char *dev, uint32_t count)
{
	uint8_t *map = calloc(1, count);
	uint32_t off;

	for (off = 0; off < count; off += 4096) {
		struct blksnap_cbtmap arg = {
			.offset = off,
			.length = count - off < 4096 ? count - off : 4096,
			.buffer = (uintptr_t)(map + off),
		};

		CHECK_OK(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTMAP, &arg, sizeof(arg)));
	}
	return map;
}

static struct blksnap_uuid snap_create(const char *path, uint64_t limit)
{
	struct blksnap_snapshot_create arg = {
		.diff_storage_limit_sect = limit,
		.diff_storage_filename = (uintptr_t)path,
	};

	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_CREATE, &arg));
	return arg.id;
}

static void snap_add(const char *dev, struct blksnap_uuid id)
{
	struct blksnap_snapshotadd arg;

	memcpy(arg.id, id.b, sizeof(arg.id));
	CHECK_OK(bf_ctl(dev, BLKSNAP_FILTER_CTL_SNAPSHOTADD, &arg, sizeof(arg)));
}

static void snap_take(struct blksnap_uuid id)
{
	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_TAKE, &id));
}

static void snap_destroy(struct blksnap_uuid id)
{
	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_DESTROY, &id));
}

static struct blksnap_snapshotinfo snap_info(const char *dev)
{
	struct blksnap_snapshotinfo info;

	CHECK_OK(bf_ctl(dev, BLKSNAP_FILTER_CTL_SNAPSHOTINFO, &info,
			sizeof(info)));
	return info;
}

static char *image_path(const char *dev)
{
	struct blksnap_snapshotinfo info = snap_info(dev);
	char *path;

	CHECK(info.image[0], "no image name for %s", dev);
	CHECK(asprintf(&path, "/dev/%s", info.image) > 0, "asprintf");
	for (int i = 0; i < 50 && access(path, F_OK); i++)
		usleep(100000);
	CHECK(!access(path, F_OK), "%s does not appear", path);
	return path;
}

static int wait_event(struct blksnap_uuid id, uint32_t ms,
		      struct blksnap_snapshot_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->timeout_ms = ms;
	return ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, ev);
}

/* ---- data patterns ---- */

static void pattern(void *buf, uint64_t off, size_t len, uint64_t seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = (off + i * 8) * 0x9E3779B97F4A7C15ULL ^ seed;
}

static void *io_buf(void)
{
	void *buf;

	CHECK(!posix_memalign(&buf, 4096, IO_SIZE), "posix_memalign");
	return buf;
}

static uint64_t dev_size(const char *dev)
{
	uint64_t size;
	int fd = open(dev, O_RDONLY);

	CHECK(fd >= 0, "open %s: %s", dev, strerror(errno));
	CHECK_OK(ioctl(fd, BLKGETSIZE64, &size));
	close(fd);
	return size;
}

static void fill(const char *dev, uint64_t seed)
{
	uint64_t size = dev_size(dev), off;
	void *buf = io_buf();
	int fd = open(dev, O_WRONLY | O_DIRECT);

	CHECK(fd >= 0, "open %s: %s", dev, strerror(errno));
	for (off = 0; off < size; off += IO_SIZE) {
		size_t len = size - off < IO_SIZE ? size - off : IO_SIZE;

		pattern(buf, off, len, seed);
		CHECK(pwrite(fd, buf, len, off) == (ssize_t)len,
		      "write %s at %" PRIu64 ": %s", dev, off, strerror(errno));
	}
	CHECK_OK(fsync(fd));
	close(fd);
	free(buf);
}

/* Returns 0 when the device holds the pattern, else -errno or 1. */
static int verify(const char *dev, uint64_t seed, bool quiet)
{
	uint64_t size = dev_size(dev), off;
	void *buf = io_buf(), *want = io_buf();
	int fd = open(dev, O_RDONLY | O_DIRECT), ret = 0;

	CHECK(fd >= 0, "open %s: %s", dev, strerror(errno));
	for (off = 0; off < size && !ret; off += IO_SIZE) {
		size_t len = size - off < IO_SIZE ? size - off : IO_SIZE;
		ssize_t n = pread(fd, buf, len, off);

		if (n != (ssize_t)len) {
			ret = n < 0 ? -errno : -EIO;
			if (!quiet)
				printf("read %s at %" PRIu64 ": %zd %s\n", dev,
				       off, n, strerror(errno));
			break;
		}
		pattern(want, off, len, seed);
		if (memcmp(buf, want, len)) {
			if (!quiet)
				printf("%s differs in the MiB at %" PRIu64 "\n",
				       dev, off);
			ret = 1;
		}
	}
	close(fd);
	free(buf);
	free(want);
	return ret;
}

static struct blksnap_uuid parse_id(const char *s);

/* ---- cases ---- */

static void on_signal(int sig)
{
	(void)sig;
}

/* SNAPSHOT_WAIT_EVENT sleeps interruptibly: a signal ends it with EINTR */
static void check_wait_eintr(struct blksnap_uuid id)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct blksnap_snapshot_event ev;
	int status;
	pid_t pid;

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		sigaction(SIGUSR1, &sa, NULL);
		if (wait_event(id, 10000, &ev) == -1 && errno == EINTR)
			_exit(0);
		_exit(1);
	}
	usleep(300000);
	kill(pid, SIGUSR1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
	      "wait event not interrupted with EINTR");
}

static void case_uapi(const char *dev)
{
	struct blksnap_version ver;
	struct blksnap_cbtinfo info;
	struct blksnap_cbtmap map = {};
	struct bdevfilter_name bad = {};
	struct blksnap_snapshot_collect col = {};
	struct blksnap_snapshot_event ev;
	struct blksnap_uuid id = {};
	uint32_t len;
	double t;

	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_VERSION, &ver));
	CHECK(ver.major == 2, "version major %u", ver.major);
	printf("version %u.%u.%u.%u\n", ver.major, ver.minor, ver.revision,
	       ver.build);

	CHECK_OK(attach(dev));
	CHECK_ERRNO(attach(dev), EALREADY);
	info = cbtinfo(dev);
	CHECK(info.device_capacity == dev_size(dev), "capacity %" PRIu64,
	      (uint64_t)info.device_capacity);
	CHECK(info.block_size == 65536, "block size %u", info.block_size);
	CHECK(info.block_count == (info.device_capacity + 65535) / 65536,
	      "block count %u", info.block_count);

	/* bad ctl arguments */
	CHECK_ERRNO(bf_ctl(dev, 77, &info, sizeof(info)), ENOTTY);
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTINFO, &info, 8), EINVAL);
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTINFO, NULL, sizeof(info)),
		    EFAULT);
	map.offset = info.block_count + 1;
	map.length = 1;
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTMAP, &map, sizeof(map)),
		    ERANGE);
	map.offset = 0xFFFFFFFF;
	map.length = 2;
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTMAP, &map, sizeof(map)),
		    ERANGE);
	map.offset = 1;
	map.length = info.block_count;
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTMAP, &map, sizeof(map)),
		    ERANGE);
	map.offset = 0;
	map.length = info.block_count;
	map.buffer = 16;
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTMAP, &map, sizeof(map)),
		    EFAULT);
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_SNAPSHOTADD, &id, sizeof(id)),
		    ESRCH);

	/* bad paths and names */
	CHECK_ERRNO(attach("/nonexistent"), ENODEV);
	CHECK_ERRNO(attach("/dev/null"), ENOTBLK);
	CHECK_ERRNO(bf_call(BDEVFILTER_ATTACH, dev, "nosuchfilter"), ENOENT);
	CHECK_ERRNO(bf_ctl("/nonexistent", 0, &info, sizeof(info)), ENODEV);
	CHECK_ERRNO(ioctl(filter_fd(), BDEVFILTER_ATTACH, &bad), EINVAL);
	memset(bad.name, 'x', sizeof(bad.name));
	bad.devpath = (uintptr_t)dev;
	CHECK_ERRNO(ioctl(filter_fd(), BDEVFILTER_ATTACH, &bad), EINVAL);
	strcpy((char *)bad.name, "blksnap");
	bad.devpath = 0;
	CHECK_ERRNO(ioctl(filter_fd(), BDEVFILTER_ATTACH, &bad), EFAULT);
	CHECK_ERRNO(ioctl(filter_fd(), BDEVFILTER_ATTACH, NULL), EFAULT);
	CHECK_ERRNO(ioctl(filter_fd(), _IO('F', 200)), ENOTTY);

	/* snapshot control errors */
	CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_TAKE, &id), ESRCH);
	CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_DESTROY, &id), ESRCH);
	CHECK_ERRNO(wait_event(id, 10, &ev), ESRCH);
	CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_VERSION, NULL), EFAULT);
	CHECK_ERRNO(ioctl(snap_fd(), _IO('V', 99)), ENOTTY);
	{
		struct blksnap_snapshot_create c = {
			.diff_storage_limit_sect = 0,
			.diff_storage_filename = (uintptr_t)DIFF_DIR,
		};

		CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_CREATE, &c),
			    EINVAL);
		c.diff_storage_limit_sect = 1 << 20;
		c.diff_storage_filename = (uintptr_t)"/nonexistent/dir";
		CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_CREATE, &c),
			    ENOENT);
	}
	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_COLLECT, &col));
	CHECK(col.count == 0, "collect: %u snapshots", col.count);

	/* a snapshot: collect, wait with a millisecond timeout, destroy */
	id = snap_create(DIFF_DIR, 1 << 20);
	col.count = 0;
	CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_COLLECT, &col));
	CHECK(col.count == 1, "collect: %u snapshots", col.count);
	{
		struct blksnap_uuid ids[1];

		col.ids = (uintptr_t)ids;
		CHECK_OK(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_COLLECT, &col));
		CHECK(!memcmp(&ids[0], &id, sizeof(id)), "collected id differs");
	}
	t = now();
	CHECK_ERRNO(wait_event(id, 300, &ev), ENOENT);
	t = now() - t;
	CHECK(t >= 0.29 && t < 3.0, "wait of 300 ms took %.3f s", t);
	check_wait_eintr(id);
	snap_add(dev, id);
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_SNAPSHOTADD, &id, sizeof(id)),
		    EALREADY);
	snap_destroy(id);
	CHECK_ERRNO(ioctl(snap_fd(), IOCTL_BLKSNAP_SNAPSHOT_DESTROY, &id), ESRCH);

	len = sizeof(info);
	(void)len;
	CHECK_OK(detach(dev));
	CHECK_ERRNO(detach(dev), ENOENT);
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTINFO, &info, sizeof(info)),
		    ENOENT);
	/* I/O on the device after detach still works */
	fill(dev, 1);
	CHECK(!verify(dev, 1, false), "data after detach");
	pass();
}

static void overwrite(const char *dev, uint64_t seed)
{
	fill(dev, seed);
}

static void case_point_in_time(const char *dev)
{
	struct blksnap_uuid id;
	pid_t pid;
	int status, reads = 0;
	char *img;

	fill(dev, 0xA);
	CHECK_OK(attach(dev));
	id = snap_create(DIFF_DIR, 1 << 20);
	snap_add(dev, id);
	snap_take(id);
	img = image_path(dev);
	CHECK(dev_size(img) == dev_size(dev), "image size differs");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		overwrite(dev, 0xB);
		_exit(0);
	}
	/* read the image while the device is overwritten */
	do {
		CHECK(!verify(img, 0xA, false), "image changed while written");
		reads++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "overwrite failed");
	CHECK(!verify(img, 0xA, false), "image after overwrite");
	CHECK(!verify(dev, 0xB, false), "device after overwrite");
	printf("image read %d times during the overwrite\n", reads);
	/* image writes land in the difference storage, not on the device */
	{
		void *buf = io_buf();
		int fd = open(img, O_RDWR | O_DIRECT);

		CHECK(fd >= 0, "open image rw: %s", strerror(errno));
		memset(buf, 0x5A, IO_SIZE);
		CHECK(pwrite(fd, buf, IO_SIZE, 3 * IO_SIZE + 4096) == IO_SIZE,
		      "image write: %s", strerror(errno));
		memset(buf, 0, IO_SIZE);
		CHECK(pread(fd, buf, IO_SIZE, 3 * IO_SIZE + 4096) == IO_SIZE,
		      "image read back");
		for (size_t i = 0; i < IO_SIZE; i++)
			CHECK(((uint8_t *)buf)[i] == 0x5A, "image write lost");
		close(fd);
		free(buf);
		CHECK(!verify(dev, 0xB, false), "device changed by an image write");
	}
	CHECK(!snap_info(dev).error_code, "snapshot error %d",
	      snap_info(dev).error_code);
	snap_destroy(id);
	CHECK(access(img, F_OK), "%s still exists", img);
	CHECK_OK(detach(dev));
	pass();
}

static void case_discard_zeroes(const char *dev)
{
	uint64_t size = dev_size(dev), range[2];
	struct blksnap_uuid id;
	char *img;
	int fd;

	fill(dev, 0xC);
	CHECK_OK(attach(dev));
	/* a regular file as the difference storage */
	fd = open(DIFF_DIR "/store", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0, "create %s/store", DIFF_DIR);
	close(fd);
	id = snap_create(DIFF_DIR "/store", 1 << 20);
	snap_add(dev, id);
	snap_take(id);
	img = image_path(dev);
	fd = open(dev, O_RDWR);
	CHECK(fd >= 0, "open %s", dev);
	range[0] = 0;
	range[1] = size / 2;
	CHECK_OK(ioctl(fd, BLKDISCARD, range));
	range[0] = size / 2;
	range[1] = size / 2;
	CHECK_OK(ioctl(fd, BLKZEROOUT, range));
	close(fd);
	CHECK(!verify(img, 0xC, false), "image changed by discard/zeroout");
	CHECK(verify(dev, 0xC, true), "device unchanged by discard/zeroout");
	CHECK(!snap_info(dev).error_code, "snapshot error");
	snap_destroy(id);
	CHECK_OK(unlink(DIFF_DIR "/store"));
	CHECK_OK(detach(dev));
	pass();
}

static void write_at(int fd, uint64_t off, size_t len)
{
	void *buf = io_buf();

	pattern(buf, off, len, 0xD);
	CHECK(pwrite(fd, buf, len, off) == (ssize_t)len, "write at %" PRIu64,
	      off);
	free(buf);
}

static void take_and_destroy(const char *dev)
{
	struct blksnap_uuid id = snap_create(DIFF_DIR, 1 << 20);

	snap_add(dev, id);
	snap_take(id);
	snap_destroy(id);
}

static void case_cbt(const char *dev, const char *reload)
{
	struct blksnap_cbtinfo a, b, c;
	uint64_t bs;
	uint8_t *map, *want;
	uint32_t i;
	int fd;

	CHECK_OK(attach(dev));
	fill(dev, 0xE);
	take_and_destroy(dev);
	a = cbtinfo(dev);
	bs = a.block_size;
	want = calloc(1, a.block_count);
	fd = open(dev, O_WRONLY | O_DIRECT);
	CHECK(fd >= 0, "open");
	write_at(fd, 3 * bs, 4096);		want[3] = 1;
	write_at(fd, 7 * bs + 8192, 8192);	want[7] = 1;
	write_at(fd, 9 * bs - 4096, 8192);	want[8] = want[9] = 1;
	write_at(fd, 20 * bs, 3 * bs);		want[20] = want[21] = want[22] = 1;
	write_at(fd, (a.block_count - 1) * bs, 4096);
	want[a.block_count - 1] = 1;
	close(fd);
	fd = open(dev, O_RDWR);
	{
		uint64_t range[2] = { 40 * bs, bs };

		CHECK_OK(ioctl(fd, BLKDISCARD, range));
		want[40] = 1;
		range[0] = 50 * bs + 4096;
		range[1] = 4096;
		CHECK_OK(ioctl(fd, BLKZEROOUT, range));
		want[50] = 1;
	}
	close(fd);
	take_and_destroy(dev);
	b = cbtinfo(dev);
	CHECK(!memcmp(a.generation_id, b.generation_id, 16),
	      "generation changed without reason");
	CHECK(b.changes_number == a.changes_number + 1, "changes_number %u -> %u",
	      a.changes_number, b.changes_number);
	map = cbtmap(dev, b.block_count);
	for (i = 0; i < b.block_count; i++) {
		bool changed = map[i] > a.changes_number;

		CHECK(changed == !!want[i], "block %u: map %u, previous %u, expected %s",
		      i, map[i], a.changes_number, want[i] ? "changed" : "unchanged");
	}
	printf("cbt: %u blocks, changes %u -> %u, map exact\n", b.block_count,
	       a.changes_number, b.changes_number);

	/* CBTDIRTY marks both maps */
	{
		struct blksnap_sectors r = { .offset = 60 * bs / 512, .count = 1 };
		struct blksnap_cbtdirty d = { .count = 1, .dirty_sectors = (uintptr_t)&r };

		CHECK_OK(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTDIRTY, &d, sizeof(d)));
		free(map);
		map = cbtmap(dev, b.block_count);
		CHECK(map[60] > b.changes_number, "CBTDIRTY not in the read map");
		d.dirty_sectors = 8;
		CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_CBTDIRTY, &d, sizeof(d)),
			    EFAULT);
	}

	/* the map is lost with the module: a new generation */
	CHECK_OK(detach(dev));
	close(filter_fd());
	close(snap_fd());
	CHECK(system(reload) == 0, "module reload failed: %s", reload);
	{
		char hex[33];

		for (i = 0; i < 16; i++)
			sprintf(hex + 2 * i, "%02x", b.generation_id[i]);
		execlp("/bin/bvtest", "bvtest", "cbt-generation", dev, hex, NULL);
	}
	(void)c;
	fail("exec");
}

static void case_cbt_generation(const char *dev, const char *old)
{
	struct blksnap_uuid gen = parse_id(old);
	struct blksnap_cbtinfo c;

	CHECK_OK(attach(dev));
	c = cbtinfo(dev);
	CHECK(memcmp(gen.b, c.generation_id, 16), "generation id kept over reload");
	CHECK(c.changes_number == 0, "changes_number %u after reload",
	      c.changes_number);
	CHECK_OK(detach(dev));
	pass();
}

struct event_waiter {
	struct blksnap_uuid id;
	int corrupted_err;
	int no_space;
	int done;
};

static void *event_thread(void *arg)
{
	struct event_waiter *w = arg;
	struct blksnap_snapshot_event ev;

	while (!w->done) {
		if (wait_event(w->id, 200, &ev)) {
			if (errno == ENOENT || errno == EINTR)
				continue;
			break;
		}
		if (ev.code == blksnap_event_code_no_space) {
			w->no_space++;
		} else if (ev.code == blksnap_event_code_corrupted) {
			struct blksnap_event_corrupted *c = (void *)ev.data;

			w->corrupted_err = c->err_code;
		}
	}
	return NULL;
}

static void case_overflow(const char *dev)
{
	struct event_waiter w = {};
	pthread_t th;
	char *img;
	int i, fd, ret;
	void *buf = io_buf();

	fill(dev, 0x1);
	CHECK_OK(attach(dev));
	/* 2 MiB of storage for a device that is overwritten completely */
	w.id = snap_create(DIFF_DIR, 4096);
	snap_add(dev, w.id);
	CHECK(!pthread_create(&th, NULL, event_thread, &w), "pthread_create");
	snap_take(w.id);
	img = image_path(dev);
	fill(dev, 0x2);
	for (i = 0; i < 100 && !w.corrupted_err; i++)
		usleep(100000);
	w.done = 1;
	pthread_join(th, NULL);
	CHECK(w.corrupted_err == -ENOSPC, "corrupted event error %d, expected %d",
	      w.corrupted_err, -ENOSPC);
	printf("events: no_space %d, corrupted %d\n", w.no_space,
	       w.corrupted_err);
	CHECK(snap_info(dev).error_code == -ENOSPC, "SNAPSHOTINFO error %d",
	      snap_info(dev).error_code);
	fd = open(img, O_RDONLY | O_DIRECT);
	CHECK(fd >= 0, "open image");
	ret = pread(fd, buf, 4096, 0);
	CHECK(ret < 0 && errno == EIO, "image read returned %d errno %d", ret,
	      errno);
	close(fd);
	CHECK(!verify(dev, 0x2, false), "device data after overflow");
	snap_destroy(w.id);
	CHECK_OK(detach(dev));
	pass();
}

static uint64_t read_counter(const char *dev)
{
	void *buf = io_buf();
	uint64_t v;
	int fd = open(dev, O_RDONLY | O_DIRECT);

	CHECK(fd >= 0 && pread(fd, buf, 4096, 0) == 4096, "read %s", dev);
	v = *(uint64_t *)buf;
	close(fd);
	free(buf);
	return v;
}

static void counter_writer(const char *a, const char *b)
{
	void *buf = io_buf();
	int fa = open(a, O_WRONLY | O_DIRECT), fb = open(b, O_WRONLY | O_DIRECT);
	uint64_t n;

	if (fa < 0 || fb < 0)
		_exit(1);
	for (n = 1; ; n++) {
		memset(buf, 0, 4096);
		*(uint64_t *)buf = n;
		if (pwrite(fa, buf, 4096, 0) != 4096 ||
		    pwrite(fb, buf, 4096, 0) != 4096)
			_exit(1);
	}
}

static void case_multi_device(const char *a, const char *b)
{
	int round;

	fill(a, 0x3);
	fill(b, 0x4);
	CHECK_OK(attach(a));
	CHECK_OK(attach(b));
	for (round = 0; round < 5; round++) {
		struct blksnap_uuid id;
		uint64_t ca, cb;
		pid_t pid;
		int status;

		id = snap_create(DIFF_DIR, 1 << 20);
		snap_add(a, id);
		snap_add(b, id);
		pid = fork();
		CHECK(pid >= 0, "fork");
		if (!pid)
			counter_writer(a, b);
		usleep(300000);
		snap_take(id);
		usleep(200000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ca = read_counter(image_path(a));
		cb = read_counter(image_path(b));
		printf("round %d: image counters %" PRIu64 " %" PRIu64 "\n",
		       round, ca, cb);
		CHECK(ca && (ca == cb || ca == cb + 1),
		      "images inconsistent: %" PRIu64 " vs %" PRIu64, ca, cb);
		snap_destroy(id);
	}
	/* a device leaving a taken snapshot corrupts it, cleanly */
	{
		struct blksnap_uuid id = snap_create(DIFF_DIR, 1 << 20);
		char *img;
		void *buf = io_buf();
		int fd;

		snap_add(a, id);
		snap_add(b, id);
		snap_take(id);
		img = image_path(a);
		CHECK_OK(detach(b));
		CHECK(snap_info(a).error_code == -ENODEV, "error %d after detach",
		      snap_info(a).error_code);
		fd = open(img, O_RDONLY | O_DIRECT);
		CHECK(fd >= 0, "open image");
		CHECK(pread(fd, buf, 4096, 0) < 0 && errno == EIO,
		      "image of a corrupted snapshot readable");
		close(fd);
		free(buf);
		snap_destroy(id);
	}
	CHECK_OK(detach(a));
	pass();
}

/* Helpers for the shell cases. */
static void cmd_snap(int argc, char **argv)
{
	/* snap <diff> <limit> <dev>... : attach, create, add, take; print id */
	struct blksnap_uuid id;
	int i;

	id = snap_create(argv[2], strtoull(argv[3], NULL, 0));
	for (i = 4; i < argc; i++) {
		if (attach(argv[i]) && errno != EALREADY)
			fail("attach %s: %s", argv[i], strerror(errno));
		snap_add(argv[i], id);
	}
	snap_take(id);
	for (i = 0; i < 16; i++)
		printf("%02x", id.b[i]);
	printf("\n");
	for (i = 4; i < argc; i++)
		printf("%s\n", image_path(argv[i]));
}

/* add-refused <dir on dev> <dev>: SNAPSHOTADD must refuse it */
static void cmd_add_refused(const char *dir, const char *dev)
{
	struct blksnap_snapshotadd arg;
	struct blksnap_uuid id;

	if (attach(dev) && errno != EALREADY)
		fail("attach %s: %s", dev, strerror(errno));
	id = snap_create(dir, 1 << 20);
	memcpy(arg.id, id.b, sizeof(arg.id));
	CHECK_ERRNO(bf_ctl(dev, BLKSNAP_FILTER_CTL_SNAPSHOTADD, &arg, sizeof(arg)),
		    EINVAL);
	snap_destroy(id);
}

static struct blksnap_uuid parse_id(const char *s)
{
	struct blksnap_uuid id;
	int i;

	for (i = 0; i < 16; i++)
		CHECK(sscanf(s + 2 * i, "%2hhx", &id.b[i]) == 1, "bad id %s", s);
	return id;
}

static void cmd_loop_remove(const char *dev)
{
	int fd = open("/dev/loop-control", O_RDWR), n;

	CHECK(fd >= 0, "open loop-control");
	CHECK(sscanf(dev, "/dev/loop%d", &n) == 1, "not a loop device %s", dev);
	CHECK_OK(ioctl(fd, LOOP_CTL_REMOVE, n));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bvtest <case> args...\n");
		return 2;
	}
	case_name = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "uapi") && argc == 3)
		case_uapi(argv[2]);
	else if (!strcmp(argv[1], "point-in-time") && argc == 3)
		case_point_in_time(argv[2]);
	else if (!strcmp(argv[1], "discard-zeroes") && argc == 3)
		case_discard_zeroes(argv[2]);
	else if (!strcmp(argv[1], "cbt") && argc == 4)
		case_cbt(argv[2], argv[3]);
	else if (!strcmp(argv[1], "cbt-generation") && argc == 4)
		case_name = "cbt", case_cbt_generation(argv[2], argv[3]);
	else if (!strcmp(argv[1], "overflow") && argc == 3)
		case_overflow(argv[2]);
	else if (!strcmp(argv[1], "multi-device") && argc == 4)
		case_multi_device(argv[2], argv[3]);
	else if (!strcmp(argv[1], "snap") && argc >= 5)
		cmd_snap(argc, argv);
	else if (!strcmp(argv[1], "destroy") && argc == 3)
		snap_destroy(parse_id(argv[2]));
	else if (!strcmp(argv[1], "attach") && argc == 3)
		CHECK_OK(attach(argv[2]));
	else if (!strcmp(argv[1], "detach") && argc == 3)
		CHECK_OK(detach(argv[2]));
	else if (!strcmp(argv[1], "fill") && argc == 4)
		fill(argv[2], strtoull(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "verify") && argc == 4)
		return verify(argv[2], strtoull(argv[3], NULL, 0), false) ? 1 : 0;
	else if (!strcmp(argv[1], "add-refused") && argc == 4)
		cmd_add_refused(argv[2], argv[3]);
	else if (!strcmp(argv[1], "loop-remove") && argc == 3)
		cmd_loop_remove(argv[2]);
	else {
		fprintf(stderr, "bvtest: bad arguments\n");
		return 2;
	}
	return 0;
}
