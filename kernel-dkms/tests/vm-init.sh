#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test VM (busybox sh). Runs the cases named by bv.cases= on
# the kernel command line; prints "RESULT PASS|FAIL <case>" lines.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /diff /mnt/a /mnt/b /run
mount -t tmpfs -o size=700m tmpfs /tmp
mount -t tmpfs -o size=300m tmpfs /diff
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

# shellcheck source=SCRIPTDIR/vm-cases.sh
. /bin/vm-cases.sh
CASES=$(sed -n 's/.*bv\.cases=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
MODE=$(sed -n 's/.*bv\.mode=\([^ ]*\).*/\1/p' /proc/cmdline)

while read -r m; do
	args=
	[ "${m##*/}" = loop.ko ] && args=max_loop=8
	# shellcheck disable=SC2086
	insmod "/lib/modules/$m" $args || echo "insmod $m failed"
done < /lib/modules/order
insmod "$KO/bdevfilter.ko" || echo "insmod bdevfilter failed"
# shellcheck disable=SC2086
insmod "$KO/blksnap.ko" $BLKSNAP_ARGS || echo "insmod blksnap failed"

run_case() {
	log "case $1 start"
	fn=case_$(echo "$1" | tr '-' '_')
	timeout "$2" sh -c ". /bin/vm-cases.sh; $fn" || true
	log "case $1 end"
}

if [ "$MODE" = bench ]; then
	# shellcheck disable=SC1091
	. /bin/bench.sh
else
	# shellcheck disable=SC2086
	for c in $CASES; do
		case $c in
		stress) t=240 ;;
		mounted-fs) t=240 ;;
		agent) t=240 ;;
		modules) t=240 ;;
		*) t=150 ;;
		esac
		run_case "$c" $t
	done
fi
echo "=== dmesg ==="
dmesg
echo "=== end ==="
sync
poweroff -f
