#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-cost.sh: what CONFIG_FUSE_BPF=y costs mounts that do not use it,
# alone: make bench's quick run narrowed to the configurations without
# fuse-bpf (native, bind, classic FUSE: passthrough_ll, bindfs, 6.12
# passthrough), which boots the VM kernel and the same config with
# CONFIG_FUSE_BPF=n (see bench.sh) and prints for each cell the rate on
# =y divided by the rate on =n (1.000: free; below: slower). Writes its
# results in build/bench-cost (cost.txt: the comparison).
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
[ -z "${BENCH_KERNEL:-}" ] || die "bench-cost compares make kernel's kernel with its =n config: unset BENCH_KERNEL"
grep -q '^CONFIG_FUSE_BPF=y' "$O/.config" 2>/dev/null ||
	die "$O is not a CONFIG_FUSE_BPF=y kernel (run 'make kernel')"
[ "${BENCH_ACCEL:-icount}" = icount ] ||
	note "bench-cost: BENCH_ACCEL=$BENCH_ACCEL measures time: the ratios vary with the host's load"
BENCH_OUT=$BUILD/bench-cost BENCH_CONFIGS="native bind pll bindfs pt" \
	BENCH_NOBPF=1 exec bash "$REPO/harness/bench.sh" quick
