#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-cost.sh: what CONFIG_FUSE_BPF=y costs mounts that do not use it.
# Runs make bench's quick workloads on the configurations without fuse-bpf
# (native, bind, classic FUSE: passthrough_ll, bindfs, 6.12 passthrough)
# once on the VM kernel (CONFIG_FUSE_BPF=y) and once on the same config
# with CONFIG_FUSE_BPF=n (build/kernel-nobpf, configured as make
# warncheck does), in instruction-counting mode, and prints for each cell the
# rate on =y divided by the rate on =n (1.000: free; below: slower).
# Writes build/bench-cost/{y,n}.csv (bench's results.csv of each run) and
# build/bench-cost/cost.txt.
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench-cost
O=$(kernel_out)
mkdir -p "$out"
[ -f "$O/bzImage" ] || die "no $O/bzImage: run 'make kernel' first"
grep -q '^CONFIG_FUSE_BPF=y' "$O/.config" || die "$O is not a CONFIG_FUSE_BPF=y kernel"

# The =n kernel: the VM kernel's config with fuse-bpf off.
nobpf=$(nobpf_config "$O")
note "bench-cost: building the CONFIG_FUSE_BPF=n kernel in $nobpf"
make -s -C "$TREE" O="$nobpf" -j"$NPROC" bzImage >"$out/build.log" 2>&1 ||
	die "the CONFIG_FUSE_BPF=n kernel does not build (see $out/build.log)"

configs="native bind pll bindfs pt"
for k in y n; do
	kernel=$O/bzImage
	[ $k = n ] && kernel=$nobpf/arch/x86/boot/bzImage
	note "bench-cost: CONFIG_FUSE_BPF=$k"
	BENCH_KERNEL=$kernel BENCH_CONFIGS=$configs BENCH_ACCEL=icount \
		bash "$REPO/harness/bench.sh" quick >"$out/$k.log" 2>&1 ||
		die "the bench on CONFIG_FUSE_BPF=$k failed (see $out/$k.log)"
	cp "$BUILD/bench/results.csv" "$out/$k.csv"
done

python3 - "$out" "$configs" >"$out/cost.txt" <<'PY'
import csv
import statistics
import sys

out, configs = sys.argv[1], sys.argv[2].split()
cells = {}
for k in 'yn':
    for r in csv.DictReader(open('%s/%s.csv' % (out, k))):
        if r['value']:
            cells.setdefault((k, r['fs'], r['workload'], r['config']),
                             []).append(float(r['value']))
med = {c: statistics.median(v) for c, v in cells.items()}
spread = {c: (max(v) - min(v)) / 2 / statistics.median(v) * 100
          for c, v in cells.items()}
rows = sorted(set((f, w) for _, f, w, _ in cells))
print('CONFIG_FUSE_BPF=y rate / CONFIG_FUSE_BPF=n rate (medians of 3 runs;')
print('in parentheses the larger of the two cells\' spreads, +-% of median)')
print('%-6s %-12s' % ('fs', 'workload') +
      ''.join('%16s' % c for c in configs))
for f, w in rows:
    line = '%-6s %-12s' % (f, w)
    for c in configs:
        y, n = ('y', f, w, c), ('n', f, w, c)
        if y in med and n in med:
            line += '%16s' % ('%.3f (%.1f)' % (med[y] / med[n],
                                                max(spread[y], spread[n])))
        else:
            line += '%16s' % '-'
    print(line)
PY
cat "$out/cost.txt"
