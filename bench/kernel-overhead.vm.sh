#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by the test VM's /init in bench mode (bv.mode=bench): fio on one
# loop device in three states (no module, tracking, snapshot active), in
# several rounds so that the states interleave; ratios are taken within a
# round and the median over the rounds is reported. Prints "BENCH <text>"
# lines; the last one is a JSON object.
DEV=/dev/loop0
RUNTIME=${BENCH_RUNTIME:-8}
ROUNDS=${BENCH_ROUNDS:-3}

bench_fio() { # bench_fio write|randwrite bs -> KiB/s
	fio --name=bench --filename=$DEV --direct=1 --ioengine=psync \
		--rw="$1" --bs="$2" --size=160m --time_based --runtime="$RUNTIME" \
		--randrepeat=1 --output-format=terse --terse-version=3 2>/dev/null |
		grep -v '^fio: ' | tail -n1 | cut -d';' -f48
}

snapshot_fio() { # a fresh snapshot, so the copy-on-write is paid
	out=$(bvtest snap /diff 1048576 $DEV) || echo "BENCH snapshot failed" >&2
	bench_fio "$1" "$2"
	bvtest destroy "$(echo "$out" | sed -n 1p)" >&2
}

modules_loaded() {
	[ -d /sys/module/blksnap ]
}

loop_up 0 160M
bvtest fill $DEV 7 >/dev/null
: > /tmp/bench.rounds
for r in $(seq 1 "$ROUNDS"); do
	if modules_loaded; then
		rmmod blksnap && rmmod bdevfilter || echo "BENCH cannot unload the modules"
	fi
	sn=$(bench_fio write 1M)
	rn=$(bench_fio randwrite 4k)
	# shellcheck disable=SC2086
	insmod "$KO/bdevfilter.ko" && insmod "$KO/blksnap.ko" $BLKSNAP_ARGS
	bvtest attach $DEV
	st=$(bench_fio write 1M)
	rt=$(bench_fio randwrite 4k)
	ss=$(snapshot_fio write 1M)
	rs=$(snapshot_fio randwrite 4k)
	bvtest detach $DEV
	echo "BENCH round $r KiB/s: seq none $sn tracking $st snapshot $ss; rand none $rn tracking $rt snapshot $rs"
	echo "$sn $st $ss $rn $rt $rs" >> /tmp/bench.rounds
done

awk -v runtime="$RUNTIME" -v rounds="$ROUNDS" '
function median(a, n,    i, j, t) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	n++
	for (k = 1; k <= 6; k++) v[k, n] = $k
	st[n] = $1 ? $2 / $1 : 0; ss[n] = $1 ? $3 / $1 : 0
	rt[n] = $4 ? $5 / $4 : 0; rs[n] = $4 ? $6 / $4 : 0
}
END {
	for (k = 1; k <= 6; k++) {
		for (i = 1; i <= n; i++) tmp[i] = v[k, i]
		m[k] = median(tmp, n)
	}
	printf "BENCH {\"seq_write_ratio_tracking\": %.3f, \"seq_write_ratio_snapshot\": %.3f, ", median(st, n), median(ss, n)
	printf "\"rand_write_ratio_tracking\": %.3f, \"rand_write_ratio_snapshot\": %.3f, ", median(rt, n), median(rs, n)
	printf "\"seq_write_kib_s\": {\"none\": %d, \"tracking\": %d, \"snapshot\": %d}, ", m[1], m[2], m[3]
	printf "\"rand_write_kib_s\": {\"none\": %d, \"tracking\": %d, \"snapshot\": %d}, ", m[4], m[5], m[6]
	printf "\"rounds\": %d, \"runtime_s_per_run\": %d, \"seq_bs\": \"1M\", \"rand_bs\": \"4k\", ", rounds, runtime
	printf "\"device\": \"loop on tmpfs, 160 MiB\", \"vm\": \"qemu tcg, 2 vcpu\", \"statistic\": \"median over rounds\"}\n"
}' /tmp/bench.rounds
loop_down 0
