#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# reqcache-bench.sh: what a request program buys a classic FUSE daemon.
# In one VM boot under QEMU's instruction counter (vm.sh --accel icount:
# a guest second is 10^9 guest instructions), fsbench's stat loop on one
# file (stat) and over the 100 files of a directory (stat_dir) on:
#
#   native   the tmpfs directory itself
#   nobpf    samples/fuse/fuse_bpf_reqcache --no-bpf (timeouts 0: every
#            stat asks the daemon)
#   bpf      fuse_bpf_reqcache with its request program (timeouts 0; the
#            program answers LOOKUP and GETATTR from its maps)
#   cache    fuse_bpf_reqcache --no-bpf --timeout=3600 (FUSE's own cache)
#
# $RUNS runs each (default 3), the configurations' order rotating from run
# to run; prints per cell the median rate (stats per 10^9 guest
# instructions), its ratio to native's median and the requests the daemon
# received per stat during the timed loop (its status file, before and
# after; fsbench stops itself between its untimed preparation and the
# loop). Writes results.csv and report.txt in build/reqcache-bench (or
# $BENCH_OUT, under build/).
#
# Needs the kernel and the fuse selftests' BPF tooling (make kernel, make
# selftests); builds the sample with harness/sample.sh.
#
# Inside the VM it runs as: reqcache-bench.sh --guest OUT
set -euo pipefail

CONFIGS=(native nobpf bpf cache)
WORKLOADS=(stat stat_dir)

# The guest side: every run, results in $out/results.csv.
guest() {
	local out=$1 runs=${RUNS:-3} secs=${SECONDS_PER_RUN:-1}
	local fsb=$out/fsbench rq=$out/fuse_bpf_reqcache
	local base=/tmp/rqb res=$out/results.csv
	local run w c i n pid fpid src mnt rate ops

	mkdir -p $base
	mount -t tmpfs -o size=512m rqb $base
	echo "config,workload,run,rate,ops,requests,lookup,getattr" >"$res"
	# snapshot FILE: the daemon's counters, on SIGUSR1
	snapshot() {
		local _try

		for _try in 1 2 3; do
			rm -f "$base/status"
			kill -USR1 "$pid"
			for _ in $(seq 100); do
				if [ -f "$base/status" ]; then
					mv "$base/status" "$1"
					return 0
				fi
				sleep 0.05
			done
		done
		echo "no status from the daemon" >&2
		return 1
	}
	# sum FILE KEY...: counters of a snapshot, added
	sum() {
		local f=$1

		shift
		awk -v keys=" $* " 'index(keys, " " $1 " ") || (keys == " all " &&
			$1 !~ /:/ && $1 != "nodes") { s += $2 } END { print s + 0 }' "$f"
	}
	run_secs() {
		[ "$run" = 0 ] && echo 0.1 || echo "$secs"
	}
	record() {
		[ "$run" = 0 ] || echo "$1" >>"$res"
	}
	# delta KEY: how much counters KEY grew during the timed loop
	delta() {
		echo $(($(sum "$base/after" "$1") - $(sum "$base/before" "$1")))
	}
	n=${#CONFIGS[@]}
	# run 0 warms the boot up (the first daemon run of a boot faults its
	# binaries and libraries in), and is not recorded
	for run in $(seq 0 "$runs"); do
		for w in "${WORKLOADS[@]}"; do
			for i in $(seq 0 $((n - 1))); do
				c=${CONFIGS[$(((i + run) % n))]}
				src=$base/src-$c-$w-$run
				mnt=$base/mnt-$c-$w-$run
				mkdir "$src" "$mnt"
				if [ "$c" = native ]; then
					read -r _ rate ops < <("$fsb" "$src" "$w" "$(run_secs)")
					record "$c,$w,$run,$rate,$ops,0,0,0"
					rm -rf "$src" "$mnt"
					continue
				fi
				case $c in
				nobpf) set -- --no-bpf ;;
				bpf) set -- ;;
				cache) set -- --no-bpf --timeout=3600 ;;
				esac
				"$rq" --status="$base/status" "$@" "$src" "$mnt" &
				pid=$!
				for _ in $(seq 100); do
					grep -q " $mnt fuse" /proc/self/mounts && break
					sleep 0.05
				done
				# untimed preparation, then stopped until counted
				FSBENCH_STOP=1 "$fsb" "$mnt" "$w" "$(run_secs)" "$src" >"$base/fsb.out" &
				fpid=$!
				until [ "$(awk '{ print $3 }' /proc/$fpid/stat 2>/dev/null)" = T ]; do
					kill -0 "$fpid" 2>/dev/null || {
						echo "fsbench $c $w failed: $(cat "$base/fsb.out")" >&2
						return 1
					}
					sleep 0.05
				done
				snapshot "$base/before"
				kill -CONT "$fpid"
				wait "$fpid"
				snapshot "$base/after"
				read -r _ rate ops <"$base/fsb.out"
				record "$c,$w,$run,$rate,$ops,$(delta all),$(delta LOOKUP),$(delta GETATTR)"
				kill -TERM "$pid"
				wait "$pid" || true
				umount "$mnt" 2>/dev/null || true
				rm -rf "$src" "$mnt"
			done
		done
	done
	umount $base
}

if [ "${1:-}" = --guest ]; then
	guest "$2"
	exit
fi

. "$(dirname "$0")/../lib.sh"

out=${BENCH_OUT:-$BUILD/reqcache-bench}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
case "$out/" in "$BUILD"/*/) ;; *) die "BENCH_OUT must be under $BUILD" ;; esac
O=$(kernel_out)
mkdir -p "$out"
sample=$(bash "$REPO/harness/sample.sh") || die "the samples do not build"
# a snapshot of what runs: a rebuild cannot change it mid-run
cp "$O/bzImage" "$out/bzImage"
cp "$(dirname "$sample")/fuse_bpf_reqcache" "$out/"
gcc -O2 -Wall -o "$out/fsbench" "$REPO/harness/bench/fsbench.c" ||
	die "cannot build harness/bench/fsbench.c"
series=$(git -C "$REPO" describe --always --dirty)

env=
for v in RUNS SECONDS_PER_RUN; do
	[ -n "${!v:-}" ] && env+="$v='${!v}' "
done
note "reqcache-bench: the VM run (log: $out/vm.log)"
start=$(date +%s)
FBT_APPEND="tsc=reliable ${FBT_APPEND:-}" \
	bash "$REPO/harness/vm.sh" --name reqcache-bench --timeout 3600 \
	--accel icount --kernel "$out/bzImage" -- \
	"$env bash '$REPO/harness/bench/reqcache-bench.sh' --guest '$out'" \
	>"$out/vm.log" 2>&1 || {
	tail -n 30 "$out/vm.log" >&2
	die "the benchmark run failed (see $out/vm.log)"
}
wall=$(($(date +%s) - start))

{
	echo "reqcache benchmark, $(date -u +%F), base $BASE_VERSION, series $series"
	echo "measure: guest instructions (QEMU TCG -icount shift=0,sleep=off,align=off:"
	echo "a guest second is 10^9 guest instructions; rates are stats per 10^9"
	echo "instructions, without cache or memory effects); VM: 2 vCPUs, 2048 MiB;"
	echo "median of ${RUNS:-3} runs of ${SECONDS_PER_RUN:-1} guest s; VM run ${wall}s;"
	echo "reproduce: bash harness/bench/reqcache-bench.sh"
	echo
	python3 - "$out/results.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
configs = ["native", "nobpf", "bpf", "cache"]
names = {"native": "native tmpfs", "nobpf": "reqcache --no-bpf (timeouts 0)",
         "bpf": "reqcache + request program (timeouts 0)",
         "cache": "reqcache --no-bpf --timeout=3600"}
for w in ["stat", "stat_dir"]:
    cell = {c: [r for r in rows if r["config"] == c and r["workload"] == w]
            for c in configs}
    nat = statistics.median(float(r["rate"]) for r in cell["native"])
    print(f"{w}:")
    print("| configuration | stats / 10^9 insns (spread) | ratio to native |"
          " daemon requests / stat (LOOKUP, GETATTR) |")
    print("|---|---|---|---|")
    for c in configs:
        rates = [float(r["rate"]) for r in cell[c]]
        med = statistics.median(rates)
        spread = (max(rates) - min(rates)) / med * 100
        per = lambda k: statistics.median(int(r[k]) / int(r["ops"]) for r in cell[c])
        print(f"| {names[c]} | {med:,.0f} (±{spread / 2:.1f}%) | {med / nat:.3f} |"
              f" {per('requests'):.3f} ({per('lookup'):.3f}, {per('getattr'):.3f}) |")
    print()
EOF
} >"$out/report.txt"
cat "$out/report.txt"
