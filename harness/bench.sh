#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Quick benchmark: the same workloads on tmpfs natively, through a bind
# mount, overlayfs, fuse-bpf (no daemon) and classic FUSE (libfuse's
# passthrough_ll), in one VM boot, interleaved, 3 runs each. Prints the
# median ops/s per cell and its ratio to native; results in
# build/bench/results.csv.
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
mkdir -p "$out"
gcc -O2 -Wall -o "$out/fsbench" "$REPO/harness/bench/fsbench.c" ||
	die "cannot build harness/bench/fsbench.c"
ex=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
gcc -O2 -Wall -o "$out/passthrough_ll" "$ex" $(pkg-config --cflags --libs fuse3) ||
	die "cannot build $ex"

# tsc=reliable: under TCG the TSC drifts against the jiffies watchdog,
# which would switch the guest to a jiffy-grained clock mid-run.
FBT_APPEND="tsc=reliable ${FBT_APPEND:-}" \
	bash "$REPO/harness/vm.sh" --name bench --timeout 3000 -- \
	"FBT_BENCH='$out' bash '$REPO/harness/bench/bench-guest.sh'" >"$out/vm.log" 2>&1 || {
	tail -n 30 "$out/vm.log" >&2
	die "the benchmark run failed (see $out/vm.log)"
}

echo "fuse-bpf quick benchmark, $(date -u +%F), base $BASE_VERSION"
echo "VM: QEMU TCG (no KVM), 2 vCPUs, 2 GiB; backing file system tmpfs;"
echo "median of 3 interleaved runs, ops/s (seqread/seqwrite: MiB/s), ratio to native"
echo "reproduce: make bench"
python3 - "$out/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cells = {}
for r in rows:
    cells.setdefault((r['workload'], r['config']), []).append(float(r['ops_per_second']))
configs = ['native', 'bind', 'ovl', 'fb', 'pll']
names = {'native': 'native', 'bind': 'bind', 'ovl': 'overlayfs',
         'fb': 'fuse-bpf', 'pll': 'passthrough_ll'}
workloads = []
for r in rows:
    if r['workload'] not in workloads:
        workloads.append(r['workload'])
print('%-11s' % 'workload' + ''.join('%22s' % names[c] for c in configs))
for w in workloads:
    nat = statistics.median(cells[(w, 'native')])
    line = '%-11s' % w
    for c in configs:
        v = cells[(w, c)]
        m = statistics.median(v)
        line += '%22s' % ('%.0f (%.2fx)' % (m, m / nat))
    print(line)
PY
