#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# insnprof.sh [WORKLOAD...]: exact instruction profiles of fsbench
# workloads (default stat; see harness/bench/fsbench.c), per
# configuration: how many guest instructions each kernel function
# executes per operation, counted by a QEMU plugin (bench/insnprof.c)
# in a VM under instruction counting (vm.sh --accel icount).
#
#   bash harness/insnprof.sh stat open_close
#   CONFIGS="native fbd fbtriv" bash harness/insnprof.sh stat
#   bash harness/insnprof.sh --diff fbd fbtriv stat   # fbtriv minus fbd
#   bash harness/insnprof.sh --report                 # print the report again
#
# Per workload and configuration (CONFIGS, default "native ovl fbnd
# fbndc fbd fbtriv": the mounts of bench/profile-guest.sh) it prints the
# kernel, user-space and total instructions per operation, the guest
# clock per operation (1 ns per instruction: the total again, plus any
# time both vCPUs sat idle in the region, a few ms in some runs), the
# bench's figure (10^9 / its median rate) when the bench folder has a
# results.csv, and the top TOP (default 25) kernel functions by
# instructions per operation. --diff A B WORKLOAD prints, per function,
# B's instructions per operation minus A's, sorted by size (top TOP,
# default 30), then the rest, the kernel, user and total deltas. A run
# of stat on three configurations takes about 40 s; counts repeat to
# within about 0.5 instructions per operation.
#
# How: the guest (bench/insnprof-guest.sh) runs each fsbench loop for
# SECS (default 0.3) guest seconds between two marks, a no-op
# instruction that bench/insnmark.c executes just before it continues
# fsbench and just after fsbench exits. The plugin adds each
# translation block's instruction count, when the block starts, to a
# counter of the block's start address (kernel) or to one user counter,
# and at each mark writes what ran since the previous one. Afterwards
# each kernel block is attributed whole to the symbol of the guest's
# /proc/kallsyms that contains its start: blocks end at branches, calls
# and returns, so that is exact but for a block that falls through into
# the next symbol; JIT-ed BPF programs and trampolines show as
# "NAME [bpf]". A region counts everything both vCPUs ran between its
# marks: the loop, but also timer interrupts, the idle vCPU's ticks,
# kernel threads, fsbench's exit and insnmark waking up (all of it one
# or two instructions per operation over 10^5 operations); a fault in
# the middle of a block counts the whole block; a rep-prefixed string
# instruction counts once per iteration, as QEMU runs it (copying a
# 144-byte struct stat with rep movsb costs about 150 instructions in
# rep_movs_alternative).
#
# Needs the binaries a bench run left (fsbench, benchfs, trivial.bpf.o
# and the bzImage they were built for) in INSNPROF_BENCH (default
# build/bench: run harness/bench.sh first); INSNPROF_KERNEL boots
# another kernel. Writes in INSNPROF_OUT (default build/insnprof, under
# build/): marks.txt (the plugin's counts), regions.txt, kallsyms,
# profiles/WORKLOAD.CONFIG.tsv (every function's instructions, and per
# operation), report.txt and vm.log; the VM runs as build/vm/insnprof
# (or the output folder's name).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

out=${INSNPROF_OUT:-$BUILD/insnprof}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
bench=${INSNPROF_BENCH:-$BUILD/bench}
py=$REPO/harness/bench/insnprof.py

case "${1:-}" in
--diff)
	[ $# = 4 ] || die "usage: insnprof.sh --diff A B WORKLOAD"
	exec python3 "$py" diff "$out" "$2" "$3" "$4" --top "${TOP:-30}"
	;;
--report)
	exec python3 "$py" report "$out" --top "${TOP:-25}" --bench "$bench"
	;;
-*) die "usage: insnprof.sh [WORKLOAD...] | --diff A B WORKLOAD | --report" ;;
esac
[ $# -gt 0 ] || set -- stat
for w in "$@"; do
	case "$w" in *[!a-z0-9_]* | "") die "bad workload name: $w" ;; esac
done

# the guest writes only under build/; QEMU's -plugin splits at commas
case "$out/" in "$BUILD"/*/) ;; *) die "INSNPROF_OUT must be under $BUILD" ;; esac
case "$out" in *,* | *" "*) die "INSNPROF_OUT must have no comma or blank" ;; esac
vmname=insnprof
[ "$out" = "$BUILD/insnprof" ] || vmname=$(basename "$out")
kernel=${INSNPROF_KERNEL:-$bench/bzImage}
for f in "$bench/fsbench" "$bench/benchfs" "$bench/trivial.bpf.o" "$kernel"; do
	[ -f "$f" ] || die "missing $f: run harness/bench.sh first (or set INSNPROF_BENCH)"
done

# A snapshot of what the guest runs, so that a bench run cannot change
# it mid-run.
rm -rf "${out:?}/bin" "$out/profiles"
rm -f "$out/marks.txt" "$out/regions.txt" "$out/kallsyms" "$out/report.txt"
mkdir -p "$out/bin"
cp "$bench/fsbench" "$bench/benchfs" "$bench/trivial.bpf.o" "$out/bin/"
# the request-program sample, for CONFIGS rqnobpf, rqbpf and rqsend
[ ! -x "$bench/fuse_bpf_reqcache" ] || cp "$bench/fuse_bpf_reqcache" "$out/bin/"
# and the mirror, for mhide (bench/hide-bench.sh leaves both)
[ ! -x "$bench/fuse_bpf_mirror" ] || cp "$bench/fuse_bpf_mirror" "$out/bin/"
cp "$kernel" "$out/bzImage"
src=$REPO/harness/bench
gcc -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC \
	-o "$out/insnprof.so" "$src/insnprof.c" ||
	die "cannot build harness/bench/insnprof.c"
gcc -O2 -Wall -o "$out/bin/insnmark" "$src/insnmark.c" ||
	die "cannot build harness/bench/insnmark.c"

note "insnprof: profiling $* under ${CONFIGS:-the default configurations} in build/vm/$vmname"
vm_rc=0
FBT_APPEND="tsc=reliable ${FBT_APPEND:-}" \
FBT_QEMU_ARGS="-plugin $out/insnprof.so,out=$out/marks.txt" \
	bash "$REPO/harness/vm.sh" --name "$vmname" --accel icount --mem 4096 \
	--timeout "${INSNPROF_TIMEOUT:-3600}" --kernel "$out/bzImage" -- \
	"FBT_BENCH='$out/bin' INSNPROF_DIR='$out' SECS='${SECS:-0.3}'" \
	"CONFIGS='${CONFIGS:-native ovl fbnd fbndc fbd fbtriv}'" \
	"bash '$src/insnprof-guest.sh' $*" >"$out/vm.log" 2>&1 || vm_rc=$?
if [ "$vm_rc" != 0 ]; then
	tail -n 30 "$out/vm.log" >&2
	die "the profiling run failed (see $out/vm.log)"
fi
python3 "$py" report "$out" --top "${TOP:-25}" --bench "$bench"
