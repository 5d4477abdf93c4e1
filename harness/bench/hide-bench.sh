#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hide-bench.sh: the --hide policy side by side, as per-op filters on
# backed nodes and as a request program of a classic daemon. In one VM
# boot under QEMU's instruction counter (vm.sh --accel icount: a guest
# second is 10^9 guest instructions), on a directory of 100 files of
# which 10 are hidden (names starting with "secret"), fsbench's
# workloads (harness/bench/fsbench.c):
#
#   hide_ls      list the directory (its 90 visible names)
#   hide_stat    stat each visible file in turn
#   hide_enoent  stat a hidden name (ENOENT)
#
# on:
#
#   native   the tmpfs directory itself, without the hidden files
#   mirror   samples/fuse/fuse_bpf_mirror --hide=secret: the directory
#            below a top-level entry, served by the kernel from the
#            source, fuse_bpf_policy.bpf.c's lookup prefilter and
#            readdir postfilter hiding
#   rqbpf    samples/fuse/fuse_bpf_reqcache --hide=secret (timeouts 0):
#            its request program answers LOOKUP and GETATTR from maps,
#            fails LOOKUPs of hidden names and edits READDIR replies
#   rqnobpf  fuse_bpf_reqcache --hide=secret --no-bpf: the daemon hides
#
# $RUNS runs each (default 3), the configurations' order rotating from run
# to run; prints per cell the median rate (operations per 10^9 guest
# instructions), its ratio to native's median and the requests the daemon
# received per operation during the timed loop (reqcache: every request,
# from its status file before and after; the mirror: the requests on
# backed nodes, its backed_node_requests counter). Writes results.csv and
# report.txt in build/hide-bench (or $BENCH_OUT, under build/), and beside
# them what harness/insnprof.sh needs to profile the same binaries
# (INSNPROF_BENCH=build/hide-bench CONFIGS="native mhide rqhide
# rqhidenobpf" bash harness/insnprof.sh hide_ls hide_stat hide_enoent).
#
# Needs the kernel and the fuse selftests' BPF tooling (make kernel, make
# selftests); builds the samples with harness/sample.sh.
#
# Inside the VM it runs as: hide-bench.sh --guest OUT
set -euo pipefail

CONFIGS=(native mirror rqbpf rqnobpf)
WORKLOADS=(hide_ls hide_stat hide_enoent)
HIDE=secret
HIDDEN=10

# The guest side: every run, results in $out/results.csv.
guest() {
	local out=$1 runs=${RUNS:-3} secs=${SECONDS_PER_RUN:-1}
	local fsb=$out/fsbench rq=$out/fuse_bpf_reqcache mi=$out/fuse_bpf_mirror
	local base=/tmp/hb res=$out/results.csv
	local run w c i n pid fpid src mnt rate ops

	mkdir -p $base
	mount -t tmpfs -o size=512m hb $base
	echo "config,workload,run,rate,ops,requests,lookup,getattr" >"$res"
	# snapshot FILE: the daemon's counters, on SIGUSR1 (the mirror's:
	# its status file, read at the root, which no workload touches)
	snapshot() {
		local _try

		if [ "$c" = mirror ]; then
			cat "$mnt/.fuse-bpf-status" >"$1"
			return
		fi
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
			$1 !~ /:/ && $1 != "nodes" && $1 != "hidden_received") {
			s += $2 } END { print s + 0 }' "$f"
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
				# the workload's directory: below a top-level entry
				# for the mirror (a backed subtree with the filters)
				mkdir "$src/w"
				case $c in
				mirror) "$mi" --hide=$HIDE "$src" "$mnt" & ;;
				rqbpf) "$rq" --status="$base/status" --hide=$HIDE "$src" "$mnt" & ;;
				rqnobpf) "$rq" --status="$base/status" --hide=$HIDE --no-bpf "$src" "$mnt" & ;;
				esac
				pid=$!
				for _ in $(seq 100); do
					grep -q " $mnt fuse" /proc/self/mounts && break
					sleep 0.05
				done
				# untimed preparation, then stopped until counted
				FSBENCH_HIDDEN=$HIDDEN FSBENCH_STOP=1 "$fsb" "$mnt/w" "$w" \
					"$(run_secs)" "$src/w" >"$base/fsb.out" 2>&1 &
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
				read -r _ rate ops <"$base/fsb.out" || true
				[ -n "${ops:-}" ] || {
					echo "fsbench $c $w failed: $(cat "$base/fsb.out")" >&2
					return 1
				}
				if [ "$c" = mirror ]; then
					record "$c,$w,$run,$rate,$ops,$(delta backed_node_requests),0,0"
				else
					record "$c,$w,$run,$rate,$ops,$(delta all),$(delta LOOKUP),$(delta GETATTR)"
				fi
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

out=${BENCH_OUT:-$BUILD/hide-bench}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
case "$out/" in "$BUILD"/*/) ;; *) die "BENCH_OUT must be under $BUILD" ;; esac
O=$(kernel_out)
mkdir -p "$out"
sample=$(bash "$REPO/harness/sample.sh") || die "the samples do not build"
# a snapshot of what runs: a rebuild cannot change it mid-run
cp "$O/bzImage" "$out/bzImage"
cp "$(dirname "$sample")/fuse_bpf_reqcache" "$sample" "$out/"
gcc -O2 -Wall -o "$out/fsbench" "$REPO/harness/bench/fsbench.c" ||
	die "cannot build harness/bench/fsbench.c"
# what insnprof.sh needs besides (INSNPROF_BENCH=$out)
tools=$O/kselftest/filesystems/fuse/tools
"$CLANG" -g -O2 -Wall -Werror --target=bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
	-I"$tools/include" -c "$REPO/harness/bench/trivial.bpf.c" \
	-o "$out/trivial.bpf.o" || die "cannot build harness/bench/trivial.bpf.c"
gcc -O2 -Wall -isystem "$O/usr/include" -I"$tools/include" -o "$out/benchfs" "$REPO/harness/bench/benchfs.c" \
	"$tools/build/libbpf/libbpf.a" -lelf -lz ||
	die "cannot build harness/bench/benchfs.c"
series=$(git -C "$REPO" describe --always --dirty)

env=
for v in RUNS SECONDS_PER_RUN; do
	[ -n "${!v:-}" ] && env+="$v='${!v}' "
done
note "hide-bench: the VM run (log: $out/vm.log)"
start=$(date +%s)
FBT_APPEND="tsc=reliable ${FBT_APPEND:-}" \
	bash "$REPO/harness/vm.sh" --name hide-bench --timeout 3600 \
	--accel icount --kernel "$out/bzImage" -- \
	"$env bash '$REPO/harness/bench/hide-bench.sh' --guest '$out'" \
	>"$out/vm.log" 2>&1 || {
	tail -n 30 "$out/vm.log" >&2
	die "the benchmark run failed (see $out/vm.log)"
}
wall=$(($(date +%s) - start))

{
	echo "hide benchmark, $(date -u +%F), base $BASE_VERSION, series $series"
	echo "measure: guest instructions (QEMU TCG -icount shift=0,sleep=off,align=off:"
	echo "a guest second is 10^9 guest instructions; rates are operations per 10^9"
	echo "instructions, without cache or memory effects); VM: 2 vCPUs, 2048 MiB;"
	echo "median of ${RUNS:-3} runs of ${SECONDS_PER_RUN:-1} guest s; VM run ${wall}s;"
	echo "reproduce: bash harness/bench/hide-bench.sh"
	echo
	python3 - "$out/results.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
configs = ["native", "mirror", "rqbpf", "rqnobpf"]
names = {"native": "native tmpfs (no hidden files)",
         "mirror": "fuse_bpf_mirror --hide (per-op filters)",
         "rqbpf": "fuse_bpf_reqcache --hide (request program)",
         "rqnobpf": "fuse_bpf_reqcache --hide --no-bpf (daemon)"}
for w in ["hide_ls", "hide_stat", "hide_enoent"]:
    cell = {c: [r for r in rows if r["config"] == c and r["workload"] == w]
            for c in configs}
    nat = statistics.median(float(r["rate"]) for r in cell["native"])
    print(f"{w}:")
    print("| configuration | ops / 10^9 insns (spread) | insns / op | ratio to native |"
          " daemon requests / op (LOOKUP, GETATTR) |")
    print("|---|---|---|---|---|")
    for c in configs:
        rates = [float(r["rate"]) for r in cell[c]]
        med = statistics.median(rates)
        spread = (max(rates) - min(rates)) / med * 100
        per = lambda k: statistics.median(int(r[k]) / int(r["ops"]) for r in cell[c])
        print(f"| {names[c]} | {med:,.0f} (±{spread / 2:.1f}%) | {1e9 / med:,.0f} |"
              f" {med / nat:.3f} | {per('requests'):.3f} ({per('lookup'):.3f},"
              f" {per('getattr'):.3f}) |")
    print()
EOF
} >"$out/report.txt"
cat "$out/report.txt"
