#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM (see harness/bench.sh): every workload under every
# configuration, on tmpfs, 3 runs each; writes CSV lines
# config,workload,run,ops_per_second to $OUT.
set -euo pipefail

B=/tmp/bench
FSB=$FBT_BENCH/fsbench
PLL=$FBT_BENCH/passthrough_ll
OUT=$FBT_BENCH/results.csv
RUNS=${RUNS:-3}
WORKLOADS=(stat open_close read4k create mkdir rename readdir seqread seqwrite randread)

ulimit -n 65536
mkdir -p $B
mount -t tmpfs -o size=1g tmpfs $B
mkdir -p $B/native $B/bind.back $B/bind $B/fb.back $B/fb $B/pll.back $B/pll \
	 $B/ovl.lower $B/ovl.upper $B/ovl.work $B/ovl
mount --bind $B/bind.back $B/bind
exec 3<$B/fb.back
mount -i -t fuse -o no_daemon,root_dir=3 fuse-bpf $B/fb
exec 3<&-
"$PLL" -o source=$B/pll.back $B/pll
mount -t overlay overlay -o lowerdir=$B/ovl.lower,upperdir=$B/ovl.upper,workdir=$B/ovl.work $B/ovl

CONFIGS=(native bind ovl fb pll)
echo "config,workload,run,ops_per_second" >"$OUT"
SECONDS_PER_RUN=${SECONDS_PER_RUN:-1}
for name in "${WORKLOADS[@]}"; do
	for run in $(seq 1 "$RUNS"); do
		for c in "${CONFIGS[@]}"; do
			d=$B/$c/$name.$run
			mkdir "$d"
			sync
			echo 3 >/proc/sys/vm/drop_caches
			r=$("$FSB" "$d" "$name" "$SECONDS_PER_RUN" | cut -d' ' -f2)
			echo "$c,$name,$run,$r" >>"$OUT"
			rm -rf "$d"
		done
	done
	echo "bench: $name done" >&2
done
umount $B/pll $B/fb $B/bind $B/ovl
