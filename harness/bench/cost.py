#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# cost.py [--no-target] Y.csv N.csv: what CONFIG_FUSE_BPF=y costs mounts that do not use
# it. Y.csv and N.csv are bench results (results.csv) of the same
# workloads booted on the VM kernel and on its config with
# CONFIG_FUSE_BPF=n. Prints, per file system, workload and configuration
# run on both, the rate on =y divided by the rate on =n (1.000: free;
# below: slower) with the larger of the two cells' spreads, and the
# target: classic FUSE and 6.12 passthrough within 0.5% of =n (unless
# --no-target: Y.csv is of a boot with fuse-bpf mounts, which the target
# is not about).
import csv
import statistics
import sys

# Configurations that do not use fuse-bpf, in the order bench prints them.
ORDER = ['native', 'bind', 'pll', 'bindfs', 'pt']
# Those the target is about (native and bind are the controls).
TARGET = ('pll', 'bindfs', 'pt')
TOLERANCE = 0.005


def cells_of(path):
    cells = {}
    for r in csv.DictReader(open(path)):
        if r['value']:
            cells.setdefault((r['fs'], r['workload'], r['config']),
                             []).append(float(r['value']))
    return cells


def main():
    args = sys.argv[1:]
    judge = not (args and args[0] == '--no-target')
    if not judge:
        args = args[1:]
    if len(args) != 2:
        sys.exit('usage: cost.py [--no-target] Y.csv N.csv')
    y, n = cells_of(args[0]), cells_of(args[1])
    common = set(y) & set(n)
    if not common:
        sys.exit('cost.py: no cell was run on both kernels')
    # A cell of a configuration run on both kernels that has a value on
    # one only (a failed run): the target cannot be judged there.
    both = set(k[2] for k in common)
    lost = sorted(k for k in set(y) ^ set(n) if k[2] in both)
    configs = [c for c in ORDER if any(k[2] == c for k in common)]
    rows = sorted(set(k[:2] for k in common))

    def med(cells, k):
        return statistics.median(cells[k])

    def spread(cells, k):
        v = cells[k]
        return (max(v) - min(v)) / 2 / statistics.median(v) * 100

    runs = max(len(v) for v in y.values())
    print('CONFIG_FUSE_BPF=y rate / CONFIG_FUSE_BPF=n rate (medians of %d '
          'runs;' % runs)
    print("in parentheses the larger of the two cells' spreads, +-% of "
          'median)')
    print('%-6s %-12s' % ('fs', 'workload') +
          ''.join('%16s' % c for c in configs))
    missed = []
    for f, w in rows:
        line = '%-6s %-12s' % (f, w)
        for c in configs:
            k = (f, w, c)
            if k not in common:
                line += '%16s' % '-'
                continue
            r = med(y, k) / med(n, k)
            line += '%16s' % ('%.3f (%.1f)' % (
                r, max(spread(y, k), spread(n, k))))
            if c in TARGET and r < 1 - TOLERANCE:
                missed.append('%s %s %s %.4f' % (f, w, c, r))
        print(line)
    if not judge:
        return
    print()
    target = 'classic FUSE and 6.12 passthrough on =y within %.1f%% of =n' % (
        TOLERANCE * 100)
    missed += ['%s %s %s no value on =%s' % (f, w, c, 'n' if k in y else 'y')
               for k in lost for f, w, c in [k] if c in TARGET]
    if not any(k[2] in TARGET for k in common):
        print('%s: not run' % target)
    elif missed:
        print('%s: MISSED: %s' % (target, ', '.join(missed)))
    else:
        print('%s: met' % target)


if __name__ == '__main__':
    main()
