#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test cases run inside the VM; sourced by /init, one case per shell.
KO=/lib/modules/extra
BLKSNAP_ARGS="diff_storage_minimum=16384"

log() { echo "bvtest: $*" > /dev/kmsg; echo "== $*"; }
result() { echo "RESULT $1 $2${3:+: $3}"; }

loop_up() { # loop_up N SIZE
	truncate -s "$2" "/tmp/disk$1"
	losetup "/dev/loop$1" "/tmp/disk$1"
}
loop_down() {
	losetup -d "/dev/loop$1" 2>/dev/null
	rm -f "/tmp/disk$1"
}

case_uapi() {
	loop_up 0 64M
	bvtest uapi /dev/loop0
	loop_down 0
}
case_point_in_time() {
	loop_up 0 64M
	bvtest point-in-time /dev/loop0
	loop_down 0
}
case_discard_zeroes() {
	loop_up 0 64M
	bvtest discard-zeroes /dev/loop0
	loop_down 0
}
case_cbt() {
	loop_up 1 64M
	bvtest cbt /dev/loop1 "rmmod blksnap && insmod $KO/blksnap.ko $BLKSNAP_ARGS"
	loop_down 1
}
case_overflow() {
	loop_up 0 64M
	bvtest overflow /dev/loop0
	loop_down 0
}
case_multi_device() {
	loop_up 2 16M
	loop_up 3 16M
	bvtest multi-device /dev/loop2 /dev/loop3
	loop_down 2
	loop_down 3
}

fs_writer() { # fs_writer DIR STOPFILE
	i=0
	while [ ! -e "$2" ]; do
		dd if=/dev/urandom of="$1/f$((i % 16))" bs=64k count=4 2>/dev/null
		[ $((i % 8)) -eq 0 ] && mkdir -p "$1/d$i" && sync
		i=$((i + 1))
	done
}

fs_case() { # fs_case TYPE N SIZE
	type=$1 n=$2 dev=/dev/loop$2
	loop_up "$n" "$3"
	if [ "$type" = ext4 ]; then
		mkfs.ext4 -q -F "$dev" || return 1
		mount -t ext4 "$dev" /mnt/a || return 1
	else
		mkfs.xfs -q -f "$dev" || return 1
		mount -t xfs "$dev" /mnt/a || return 1
	fi
	mkdir -p /mnt/a/store
	bvtest add-refused /mnt/a/store "$dev" || return 1
	rm -f /tmp/stopw
	fs_writer /mnt/a /tmp/stopw &
	wpid=$!
	sleep 2
	out=$(bvtest snap /diff 1048576 "$dev") || { touch /tmp/stopw; wait $wpid; return 1; }
	sleep 2
	touch /tmp/stopw
	wait $wpid
	id=$(echo "$out" | sed -n 1p)
	img=$(echo "$out" | sed -n 2p)
	rc=0
	# the image mounts read-write (a log replay writes to the image)
	if [ "$type" = ext4 ]; then
		mount -t ext4 "$img" /mnt/b || rc=1
	else
		mount -t xfs -o nouuid "$img" /mnt/b || rc=1
	fi
	if [ $rc -eq 0 ]; then
		echo "image has $(find /mnt/b -maxdepth 1 | wc -l) entries"
		cat /mnt/b/f* > /dev/null || rc=1
		umount /mnt/b || rc=1
	fi
	if [ "$type" = ext4 ]; then
		fsck.ext4 -fn "$img" || rc=1
	else
		xfs_repair -n "$img" || rc=1
	fi
	bvtest destroy "$id" || rc=1
	bvtest detach "$dev" || rc=1
	umount /mnt/a || rc=1
	loop_down "$n"
	return $rc
}

case_mounted_fs() {
	if ! fs_case ext4 4 64M; then
		result FAIL mounted-fs "ext4 image"
	elif ! fs_case xfs 5 320M; then
		result FAIL mounted-fs "xfs image"
	else
		result PASS mounted-fs
	fi
}

case_stress() {
	dev=/dev/loop6
	loop_up 6 96M
	bvtest fill $dev 5
	out=$(bvtest snap /diff 1048576 $dev) || { result FAIL stress "take"; return; }
	id=$(echo "$out" | sed -n 1p)
	img=$(echo "$out" | sed -n 2p)
	rm -f /tmp/stopr /tmp/imgbad
	( n=0; while [ ! -e /tmp/stopr ]; do
		bvtest verify "$img" 5 >/dev/null || { touch /tmp/imgbad; break; }
		n=$((n + 1)); done; echo "image verified $n times" ) &
	rpid=$!
	rc=0
	fio --name=stress --filename=$dev --direct=1 --ioengine=psync \
		--rw=randwrite --bsrange=4k-64k --numjobs=4 --size=24m \
		--offset_increment=24m --time_based --runtime=60 \
		--verify=crc32c --verify_backlog=128 --verify_fatal=1 \
		--group_reporting \
		--output-format=terse --terse-version=3 > /tmp/fio.out 2>&1 || rc=1
	touch /tmp/stopr
	wait $rpid
	grep -v '^fio: ' /tmp/fio.out | cut -d';' -f1-10
	# terse field 6: KiB read, i.e. verified
	rkb=$(grep -v '^fio: ' /tmp/fio.out | tail -n1 | cut -d';' -f6)
	[ "${rkb:-0}" -gt 0 ] || { rc=1; echo "fio verified nothing"; }
	[ -e /tmp/imgbad ] && { result FAIL stress "image changed"; rc=2; }
	bvtest verify "$img" 5 || { [ $rc -eq 2 ] || result FAIL stress "image changed after the load"; rc=2; }
	bvtest destroy "$id" || rc=1
	bvtest detach $dev || rc=1
	loop_down 6
	if [ $rc -eq 0 ]; then result PASS stress
	elif [ $rc -eq 1 ]; then cat /tmp/fio.out; result FAIL stress "fio or cleanup failed"
	fi
}

case_unload() {
	loop_up 0 16M
	loop_up 7 16M
	bvtest attach /dev/loop0 || { result FAIL unload "attach"; return; }
	if rmmod blksnap 2>/dev/null; then result FAIL unload "blksnap unloaded while attached"; return; fi
	if rmmod bdevfilter 2>/dev/null; then result FAIL unload "bdevfilter unloaded while attached"; return; fi
	bvtest detach /dev/loop0 || { result FAIL unload "detach"; return; }
	# a disk that goes away detaches by itself
	bvtest attach /dev/loop7 || { result FAIL unload "attach loop7"; return; }
	loop_down 7
	bvtest loop-remove /dev/loop7 || { result FAIL unload "loop remove"; return; }
	sleep 1
	dmesg | grep -q "detached blksnap from 7:7" || { result FAIL unload "no auto-detach on disk removal"; return; }
	rmmod blksnap || { result FAIL unload "rmmod blksnap after detach"; return; }
	rmmod bdevfilter || { result FAIL unload "rmmod bdevfilter after detach"; return; }
	left=$(ls -d /dev/bdevfilter /dev/blksnap* /sys/module/blksnap /sys/module/bdevfilter /sys/block/blksnap* 2>/dev/null)
	[ -z "$left" ] || { result FAIL unload "left behind: $left"; return; }
	loop_down 0
	result PASS unload
}

