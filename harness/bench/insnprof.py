#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reports of harness/insnprof.sh: guest instructions per operation, by
kernel function, from what the insnprof plugin (insnprof.c) and the
guest (insnprof-guest.sh) wrote in DIR.

  insnprof.py report DIR [--top N] [--bench BENCHDIR]
      per region (workload, configuration): kernel, user and total
      instructions per operation and the top N kernel functions; writes
      DIR/profiles/WORKLOAD.CONFIG.tsv and DIR/report.txt
  insnprof.py diff DIR A B WORKLOAD [--top N]
      per function, B's instructions per operation minus A's
"""
import argparse
import bisect
import csv
import os
import statistics
import sys

USER = '[user]'


def read_regions(d):
    regions = []
    with open(os.path.join(d, 'regions.txt')) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            idx, w, c, ops, ns = line.split()
            regions.append({'index': int(idx), 'workload': w, 'config': c,
                            'ops': int(ops), 'ns': int(ns)})
    return regions


def read_marks(d, wanted):
    """The dumps of the marks in wanted, {mark: (user, kernel, {addr: n})},
    and the number of marks."""
    dumps = {}
    cur = None
    nmarks = 0
    with open(os.path.join(d, 'marks.txt')) as f:
        for line in f:
            a, b = line.split()
            if a == 'mark':
                mark = int(b)
                nmarks += 1
                cur = {} if mark in wanted else None
                user = kernel = 0
            elif a == 'user':
                user = int(b)
            elif a == 'kernel':
                kernel = int(b)
            elif a == 'end':
                if cur is not None:
                    dumps[mark] = (user, kernel, cur)
                cur = None
            elif cur is not None:
                cur[int(a, 16)] = int(b)
    return dumps, nmarks


class Symbols:
    """Text symbols of the guest's /proc/kallsyms."""

    def __init__(self, path):
        syms = []
        self.stext = self.etext = None
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) < 3:
                    continue
                addr = int(p[0], 16)
                if p[2] == '_stext':
                    self.stext = addr
                elif p[2] == '_etext':
                    self.etext = addr
                if p[1] not in 'tTwW' or addr == 0:
                    continue
                mod = p[3].strip('[]') if len(p) > 3 else ''
                syms.append((addr, p[2], mod))
        if not syms:
            sys.exit('insnprof: no text symbols in %s (kptr_restrict?)' % path)
        syms.sort()
        self.addrs = [s[0] for s in syms]
        self.syms = syms
        self.cache = {}

    def name(self, addr):
        n = self.cache.get(addr)
        if n is not None:
            return n
        i = bisect.bisect_right(self.addrs, addr) - 1
        n = '[kernel, no symbol]'
        if i >= 0:
            saddr, sym, mod = self.syms[i]
            core = self.stext is not None and self.stext <= addr < self.etext
            # module, BPF and other code outside the kernel's text: trust
            # the symbol before only this close (their sizes are unknown)
            if core or (mod and addr - saddr < 16384):
                n = '%s [%s]' % (sym, mod) if mod else sym
        self.cache[addr] = n
        return n


def bench_insns_per_op(bench):
    """{(workload, config): 10^9 / median rate} of a bench's results.csv
    (tmpfs rows): under icount, instructions per operation."""
    path = os.path.join(bench or '', 'results.csv')
    if not bench or not os.path.exists(path):
        return {}
    rates = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get('fs') != 'tmpfs' or not row.get('value'):
                continue
            rates.setdefault((row['workload'], row['config']), []).append(
                float(row['value']))
    return {k: 1e9 / statistics.median(v) for k, v in rates.items() if v}


def report(args):
    d = args.dir
    regions = read_regions(d)
    wanted = {2 * r['index'] + 1 for r in regions}
    dumps, nmarks = read_marks(d, wanted)
    if nmarks != 2 * len(regions):
        print('insnprof: warning: %d marks for %d regions: the regions may '
              'be misattributed' % (nmarks, len(regions)))
    syms = Symbols(os.path.join(d, 'kallsyms'))
    bench = bench_insns_per_op(args.bench)
    pdir = os.path.join(d, 'profiles')
    os.makedirs(pdir, exist_ok=True)
    lines = []
    summary = []

    def out(s=''):
        lines.append(s)

    for r in regions:
        m = 2 * r['index'] + 1
        if m not in dumps:
            out('insnprof: no data for region %d' % r['index'])
            continue
        user, kernel, addrs = dumps[m]
        total = user + kernel
        if r['workload'] == 'selftest':
            loop = r['ops']
            out('=== self-test: a loop of %d iterations of 2 instructions: '
                '%d user instructions (%+d), %d kernel; guest clock %d ns '
                '(%+d against the count)' % (loop, user, user - 2 * loop,
                                            kernel, r['ns'], r['ns'] - total))
            out()
            continue
        funcs = {}
        for a, n in addrs.items():
            f = syms.name(a)
            funcs[f] = funcs.get(f, 0) + n
        ops = r['ops']
        w, c = r['workload'], r['config']
        with open(os.path.join(pdir, '%s.%s.tsv' % (w, c)), 'w') as f:
            f.write('# workload %s\n# config %s\n# ops %d\n# user %d\n'
                    '# kernel %d\n# ns %d\n' % (w, c, ops, user, kernel,
                                               r['ns']))
            f.write('%s\t%d\t%.3f\n' % (USER, user, user / ops))
            for fn, n in sorted(funcs.items(), key=lambda x: -x[1]):
                f.write('%s\t%d\t%.3f\n' % (fn, n, n / ops))
        b = bench.get((w, c))
        out('=== %s on %s: %d ops; per op: kernel %.1f, user %.1f, total '
            '%.1f instructions (guest clock %.1f ns/op%s)'
            % (w, c, ops, kernel / ops, user / ops, total / ops,
               r['ns'] / ops, '; bench %.1f' % b if b else ''))
        out('  %10s %7s  %s' % ('insns/op', 'kernel', 'function'))
        for fn, n in sorted(funcs.items(), key=lambda x: -x[1])[:args.top]:
            out('  %10.1f %6.1f%%  %s' % (n / ops, 100.0 * n / kernel, fn))
        out()
        summary.append((w, c, ops, kernel / ops, user / ops, total / ops,
                        r['ns'] / ops, b))

    out('=== summary: guest instructions per operation (all vCPUs, '
        'between the marks)')
    out('%-10s %-7s %8s %9s %8s %9s %9s %8s %9s %8s' % (
        'workload', 'config', 'ops', 'kernel', 'user', 'total', 'clock',
        'x first', 'bench', 'x first'))
    first = {}
    for w, c, ops, k, u, t, ns, b in summary:
        f = first.setdefault(w, (t, b))
        out('%-10s %-7s %8d %9.1f %8.1f %9.1f %9.1f %8.3f %9s %8s' % (
            w, c, ops, k, u, t, ns, t / f[0],
            '%.1f' % b if b else '-',
            '%.3f' % (b / f[1]) if b and f[1] else '-'))
    out('(clock: the guest clock in ns per op, 1 ns per instruction under '
        'icount; bench: 10^9 / the median rate in %s)'
        % os.path.join(args.bench or '-', 'results.csv'))
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(d, 'report.txt'), 'w') as f:
        f.write(text)
    sys.stdout.write(text)


def read_profile(d, w, c):
    """{function: instructions per operation} of a profile."""
    path = os.path.join(d, 'profiles', '%s.%s.tsv' % (w, c))
    if not os.path.exists(path):
        sys.exit('insnprof: no profile of %s on %s in %s (run insnprof.sh '
                 'with it first)' % (w, c, os.path.join(d, 'profiles')))
    counts = {}
    ops = None
    with open(path) as f:
        for line in f:
            if line.startswith('# ops '):
                ops = int(line.split()[2])
            elif not line.startswith('#'):
                fn, n, _ = line.rstrip('\n').split('\t')
                counts[fn] = int(n)
    return {fn: n / ops for fn, n in counts.items()}


def diff(args):
    a = read_profile(args.dir, args.workload, args.a)
    b = read_profile(args.dir, args.workload, args.b)
    deltas = sorted(((b.get(f, 0.0) - a.get(f, 0.0), f) for f in set(a) | set(b)),
                    key=lambda x: (-abs(x[0]), x[1]))
    ka = sum(v for f, v in a.items() if f != USER)
    kb = sum(v for f, v in b.items() if f != USER)
    print('=== %s: %s - %s, guest instructions per operation'
          % (args.workload, args.b, args.a))
    print('  %10s %10s %10s  %s' % (args.a, args.b, 'delta', 'function'))
    shown = deltas[:args.top]
    for dv, f in shown:
        print('  %10.1f %10.1f %+10.1f  %s' % (a.get(f, 0.0), b.get(f, 0.0), dv, f))
    rest = deltas[args.top:]
    if rest:
        print('  %10s %10s %+10.1f  (%d other functions)'
              % ('', '', sum(dv for dv, _ in rest), len(rest)))
    print('  %10.1f %10.1f %+10.1f  kernel total' % (ka, kb, kb - ka))
    print('  %10.1f %10.1f %+10.1f  user (%s)' % (a.get(USER, 0.0), b.get(USER, 0.0),
                                                  b.get(USER, 0.0) - a.get(USER, 0.0),
                                                  USER))
    ta, tb = ka + a.get(USER, 0.0), kb + b.get(USER, 0.0)
    print('  %10.1f %10.1f %+10.1f  total (%.3fx)' % (ta, tb, tb - ta, tb / ta))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('report')
    r.add_argument('dir')
    r.add_argument('--top', type=int, default=25)
    r.add_argument('--bench')
    r.set_defaults(func=report)
    df = sub.add_parser('diff')
    df.add_argument('dir')
    df.add_argument('a')
    df.add_argument('b')
    df.add_argument('workload')
    df.add_argument('--top', type=int, default=30)
    df.set_defaults(func=diff)
    args = p.parse_args()
    args.func(args)


if __name__ == '__main__':
    main()
