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


# the node agent (a Java runtime and its jar staged by run-vm) against these
# modules: a mounted ext4 under write load, full then CBT-incremental backup
# to a directory repository, restore to another device, fsck, checksums
agent() { # agent SUBCOMMAND ARGS...
	sub=$1
	shift
	/opt/jre/bin/java -Xmx256m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Djava.io.tmpdir=/tmp/jtmp -jar /opt/agent.jar "$sub" --node vm --json \
		--repository-dir /tmp/repo --min-free-mib 0 --key-file /tmp/keys "$@"
}
json_field() { # json_field FILE NAME
	sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1"
}
agent_writer() { # agent_writer DIR STOPFILE: a slow, steady load
	i=0
	while [ ! -e "$2" ]; do
		dd if=/dev/urandom of="$1/w$((i % 8))" bs=64k count=2 2>/dev/null
		[ $((i % 8)) -eq 0 ] && sync
		i=$((i + 1))
		sleep 1
	done
}
agent_files() { # agent_files DIR N: N random 1 MiB files, synced, checksummed
	mkdir -p "$1"
	j=0
	while [ $j -lt "$2" ]; do
		dd if=/dev/urandom of="$1/s$j" bs=64k count=16 2>/dev/null
		j=$((j + 1))
	done
	sync
	(cd /mnt/a && md5sum "${1#/mnt/a/}"/s*) >> /tmp/agent.md5
}
agent_fail() {
	touch /tmp/stopw
	wait "$wpid" 2>/dev/null
	for f in /tmp/b1.json /tmp/b2.json /tmp/r.json /tmp/agent.err; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	result FAIL agent "$1"
	umount /mnt/b 2>/dev/null
	bvtest detach /dev/loop4 2>/dev/null
	umount /mnt/a 2>/dev/null
	loop_down 4
	loop_down 5
	umount /tmp/repo 2>/dev/null
}
case_agent() {
	if [ ! -x /opt/jre/bin/java ] || [ ! -f /opt/agent.jar ]; then
		result FAIL agent "no agent in the initramfs"
		return
	fi
	src=/dev/loop4 dst=/dev/loop5 wpid=
	loop_up 4 96M
	loop_up 5 96M
	mkdir -p /tmp/repo /tmp/jtmp /diff/agent
	# the repository on a tmpfs of its own (the rootfs reports no free
	# space); --min-free-mib 0 drops the reserve a server keeps
	mount -t tmpfs -o size=256m repo /tmp/repo || { result FAIL agent "repository tmpfs"; return; }
	rm -f /tmp/agent.md5 /tmp/stopw /tmp/agent.err
	printf 'id-key=%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" > /tmp/keys
	chmod 600 /tmp/keys
	mkfs.ext4 -q -F $src || { result FAIL agent "mkfs"; return; }
	mount -t ext4 $src /mnt/a || { result FAIL agent "mount"; return; }
	agent_files /mnt/a/one 8
	agent_writer /mnt/a /tmp/stopw &
	wpid=$!
	sleep 2
	set -- --device $src --snapshot blksnap --diff-storage /diff/agent --diff-limit-mib 128 \
		--chunk-size-mib 1 --workers 2 --uploads 1
	t0=$(date +%s)
	agent backup "$@" > /tmp/b1.json 2> /tmp/agent.err || { agent_fail "full backup"; return; }
	t1=$(date +%s)
	echo "full backup: $(cat /tmp/b1.json) ($((t1 - t0)) s)"
	agent_files /mnt/a/two 4
	sleep 2
	agent backup "$@" > /tmp/b2.json 2> /tmp/agent.err || { agent_fail "incremental backup"; return; }
	t2=$(date +%s)
	echo "incremental backup: $(cat /tmp/b2.json) ($((t2 - t1)) s)"
	touch /tmp/stopw
	wait $wpid
	size=$(json_field /tmp/b2.json deviceSizeBytes)
	scanned=$(json_field /tmp/b2.json scannedBytes)
	sent=$(json_field /tmp/b2.json sentBytes)
	point=$(json_field /tmp/b2.json pointId)
	[ "$(json_field /tmp/b1.json snapshotProvider)" = blksnap ] || { agent_fail "full backup not through blksnap"; return; }
	[ "$(json_field /tmp/b2.json mode)" = Cbt ] || { agent_fail "incremental mode is not Cbt"; return; }
	[ "$(json_field /tmp/b2.json parentPointId)" = "$(json_field /tmp/b1.json pointId)" ] ||
		{ agent_fail "incremental parent is not the full backup"; return; }
	if ! { [ -n "$size" ] && [ "$scanned" -gt 0 ] && [ "$scanned" -le $((size / 4)) ] &&
		[ "$sent" -le $((size / 4)) ]; }; then
		agent_fail "incremental read $scanned and sent $sent of $size bytes"
		return
	fi
	agent restore --point "$point" --target $dst > /tmp/r.json 2> /tmp/agent.err || { agent_fail "restore"; return; }
	t3=$(date +%s)
	echo "restore: $(cat /tmp/r.json) ($((t3 - t2)) s)"
	fsck.ext4 -fn $dst || { agent_fail "fsck of the restored device"; return; }
	mount -t ext4 $dst /mnt/b || { agent_fail "mount of the restored device"; return; }
	(cd /mnt/b && md5sum -c /tmp/agent.md5) || { agent_fail "checksums"; return; }
	umount /mnt/b
	# A "reboot": the tracker and its CBT map are gone. The next backup sees a new
	# generation, reads everything, and still sends only what the repository lacks.
	bvtest detach $src || { result FAIL agent "detach (reboot)"; return; }
	agent_files /mnt/a/three 2
	agent backup "$@" > /tmp/b3.json 2> /tmp/agent.err || { agent_fail "backup after the reboot"; return; }
	echo "after the reboot: $(cat /tmp/b3.json)"
	scanned=$(json_field /tmp/b3.json scannedBytes)
	sent=$(json_field /tmp/b3.json sentBytes)
	[ "$(json_field /tmp/b3.json mode)" = FullScan ] || { agent_fail "mode after the reboot is not FullScan"; return; }
	if ! { [ "$scanned" -eq "$size" ] && [ "$sent" -le $((size / 4)) ]; }; then
		agent_fail "after the reboot read $scanned and sent $sent of $size bytes"
		return
	fi
	# Quick rollback: back to the last point on the device itself, rewriting only
	# the chunks the tracker saw change since (files written after it must go).
	cp /tmp/agent.md5 /tmp/agent-b3.md5
	agent_files /mnt/a/four 3
	umount /mnt/a || { result FAIL agent "umount before the rollback"; return; }
	agent restore --point "$(json_field /tmp/b3.json pointId)" --target $src --quick-rollback \
		--diff-storage /diff/agent > /tmp/r2.json 2> /tmp/agent.err || { agent_fail "quick rollback"; return; }
	echo "quick rollback: $(cat /tmp/r2.json)"
	rewritten=$(json_field /tmp/r2.json chunksRewritten)
	total=$(json_field /tmp/r2.json chunksTotal)
	[ "$(json_field /tmp/r2.json quickRollback)" = true ] || { agent_fail "the rollback was not quick"; return; }
	[ "$rewritten" -gt 0 ] && [ "$rewritten" -le $((total / 4)) ] ||
		{ agent_fail "quick rollback rewrote $rewritten of $total chunks"; return; }
	fsck.ext4 -fn $src || { agent_fail "fsck after the quick rollback"; return; }
	mount -t ext4 $src /mnt/a || { agent_fail "mount after the quick rollback"; return; }
	(cd /mnt/a && md5sum -c /tmp/agent-b3.md5) || { agent_fail "checksums after the quick rollback"; return; }
	[ ! -e /mnt/a/four ] || { agent_fail "files written after the point survived the rollback"; return; }
	bvtest detach $src || { result FAIL agent "detach"; return; }
	umount /mnt/a || { result FAIL agent "umount"; return; }
	loop_down 4
	loop_down 5
	umount /tmp/repo
	rm -rf /tmp/repo /tmp/jtmp /diff/agent
	result PASS agent
}

# build-and-load, what the agent DaemonSet's init container runs, against the
# real kernel: modules already loaded; prebuilt modules loaded; nothing to
# load and no headers (this VM has none); another IPMODIFY ftrace user of
# submit_bio_noacct (bdevfiltex: a renamed copy of bdevfilter staged by
# run-vm); a damaged blksnap.ko. Leaves the modules loaded as it found them.
bl() { # bl ARGS...: prints the exit code; the output is in /tmp/bl.out
	/opt/jre/bin/java -Xmx128m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Djava.io.tmpdir=/tmp/jtmp -jar /opt/agent.jar build-and-load \
		--state-file /tmp/module-state "$@" > /tmp/bl.out 2>&1
	echo $?
}
modules_fail() {
	echo "--- build-and-load said:"
	cat /tmp/bl.out
	echo "--- state file:"
	cat /tmp/module-state 2>/dev/null
	result FAIL modules "$1"
	rmmod bdevfiltex 2>/dev/null
	[ -d /sys/module/bdevfilter ] || insmod "$KO/bdevfilter.ko"
	# shellcheck disable=SC2086
	[ -d /sys/module/blksnap ] || insmod "$KO/blksnap.ko" $BLKSNAP_ARGS
}
case_modules() {
	if [ ! -x /opt/jre/bin/java ] || [ ! -f /opt/agent.jar ] || [ ! -f /opt/busy/bdevfiltex.ko ]; then
		result FAIL modules "no agent or no bdevfiltex.ko in the initramfs"
		return
	fi
	mkdir -p /tmp/jtmp /tmp/damaged
	rc=$(bl)
	echo "== loaded: exit $rc: $(cat /tmp/bl.out)"
	{ [ "$rc" = 0 ] && grep -q '^BlksnapLoaded: ' /tmp/bl.out; } ||
		{ modules_fail "loaded modules not recognised (exit $rc)"; return; }
	grep -q '^reason=BlksnapLoaded' /tmp/module-state || { modules_fail "no state file"; return; }
	{ rmmod blksnap && rmmod bdevfilter; } || { modules_fail "rmmod"; return; }
	rc=$(bl --module-dir $KO)
	echo "== prebuilt: exit $rc: $(cat /tmp/bl.out)"
	{ [ "$rc" = 0 ] && grep -q '^ModulesLoaded: ' /tmp/bl.out && [ -c /dev/blksnap-control ]; } ||
		{ modules_fail "prebuilt modules not loaded (exit $rc)"; return; }
	{ rmmod blksnap && rmmod bdevfilter; } || { modules_fail "rmmod after load"; return; }
	rc=$(bl)
	echo "== no modules, no headers: exit $rc: $(cat /tmp/bl.out)"
	{ [ "$rc" = 10 ] && grep -q 'KernelHeadersMissing: .*linux-headers-' /tmp/bl.out; } ||
		{ modules_fail "no KernelHeadersMissing (exit $rc)"; return; }
	insmod /opt/busy/bdevfiltex.ko || { modules_fail "insmod bdevfiltex"; return; }
	rc=$(bl --module-dir $KO)
	echo "== ftrace busy: exit $rc: $(cat /tmp/bl.out)"
	echo "== enabled_functions:"
	grep submit_bio_noacct /sys/kernel/tracing/enabled_functions
	{ [ "$rc" = 13 ] && grep -q 'FtraceHookBusy: .*bdevfiltex' /tmp/bl.out && [ ! -d /sys/module/bdevfilter ]; } ||
		{ modules_fail "no FtraceHookBusy (exit $rc)"; return; }
	rmmod bdevfiltex || { modules_fail "rmmod bdevfiltex"; return; }
	cp $KO/bdevfilter.ko /tmp/damaged/
	head -c 4096 $KO/blksnap.ko > /tmp/damaged/blksnap.ko
	rc=$(bl --module-dir /tmp/damaged)
	echo "== damaged: exit $rc: $(cat /tmp/bl.out)"
	{ [ "$rc" = 14 ] && grep -q 'ModuleLoadFailed: loading blksnap failed' /tmp/bl.out; } ||
		{ modules_fail "no ModuleLoadFailed (exit $rc)"; return; }
	rmmod bdevfilter || { modules_fail "rmmod bdevfilter after the damaged blksnap"; return; }
	# shellcheck disable=SC2086
	{ insmod "$KO/bdevfilter.ko" && insmod "$KO/blksnap.ko" $BLKSNAP_ARGS; } ||
		{ result FAIL modules "reload"; return; }
	rm -rf /tmp/damaged /tmp/jtmp
	result PASS modules
}
