#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A short seed of the differential fuzzer fsfuzz (harness/fuzz.sh runs the
# long ones): a fuse-bpf mount against a tmpfs twin, 3 uids x 2 threads,
# without filters and with filters that pass every operation through the
# whole BPF pipeline; and proof that the fuzzer finds a divergence and
# shrinks it: one injected into the twin (fs_diff's injection hooks) must
# be reported with its seed, worker and op, replayed alone and shrunk to a
# handful of operations.

. "$(dirname "$0")/tap_helpers.sh"

FSFUZZ=$(dirname "$0")/fsfuzz
# 10,000 operations per filter mode take about 8 s in the VM; a debug
# kernel (KASAN, lockdep, kmemleak) runs them some 30 times slower.
if [ -e /sys/kernel/debug/kmemleak ]; then
	OPS=${FUZZ_TEST_OPS:-2500}
else
	OPS=${FUZZ_TEST_OPS:-10000}
fi

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -x "$FSFUZZ" ] || skip_all "no $FSFUZZ"
grep -qw fuse /proc/filesystems || skip_all "no fuse in /proc/filesystems"

# run NAME EXPECTED_STATUS ARGS...: the fuzzer's output in $out
run() {
	local name=$1 want=$2 status=0

	shift 2
	out=$("$FSFUZZ" "$@" 2>&1) || status=$?
	if [ "$status" != "$want" ]; then
		not_ok "$name" "fsfuzz $* exited $status, expected $want" \
			"$(printf '%s\n' "$out" | tail -n 40)"
		return 1
	fi
	printf '%s\n' "$out" | grep -E '^fsfuzz: (ops run|readdir|BPF)' | sed 's/^/# /'
	return 0
}

# has NAME PATTERN: one test line for whether $out matches PATTERN
has() {
	if printf '%s\n' "$out" | grep -qE "$2"; then
		ok "$1"
	else
		not_ok "$1" "no line matching: $2" "$(printf '%s\n' "$out" | tail -n 40)"
	fi
}

for filter in none post; do
	if run "fsfuzz --filter $filter" 0 --seed 1 --ops "$OPS" \
		--uids 0,1001,1002 --threads 2 --filter $filter --rdr 500; then
		has "fsfuzz --filter $filter: $OPS ops, 0 divergences" \
			"^fsfuzz: ops run $OPS \(.*\), divergences 0 "
		has "fsfuzz --filter $filter: readdir while renaming ran" \
			"^fsfuzz: readdir while renaming, mount: [1-9][0-9]* listings, 500 renames \(0 failed\), 0 violations"
		# the filters ran: a run that tested the plain mount is no pass
		[ "$filter" = none ] ||
			has "fsfuzz --filter $filter: the prefilters and postfilters ran" \
				"^fsfuzz: BPF filter calls: [1-9][0-9]* prefilter, [1-9][0-9]* postfilter"
	fi
done

# A result falsified on the twin at op 150 of worker 0: found there, and
# the minimal sequence is that one operation.
if run "injected result" 1 --seed 3 --ops 400 --uids 1001 --threads 1 \
	--rdr 0 --inject result:0:150; then
	has "injected result: reported with seed, worker and op" \
		"^fsfuzz: DIVERGENCE: seed 3, worker 0 \(uid 1001\), op 150: "
	has "injected result: shrunk to the one operation" \
		"^fsfuzz: minimal sequence: 1 of 150 ops"
	has "injected result: the replay command" \
		"^fsfuzz: replay: fsfuzz --seed 3 --uids 1001 --threads 1 --filter none --worker 0 --ops 150"
fi

# After op 208 the twin's copy of that op's path loses its mode bits: the
# divergence needs the operations that made the path, and no others.
if run "injected mode" 1 --seed 3 --ops 400 --uids 1001 --threads 1 \
	--rdr 0 --inject mode:0:208; then
	has "injected mode: reported" "^fsfuzz: DIVERGENCE: seed 3, worker 0 \(uid 1001\)"
	has "injected mode: diverges alone" "^fsfuzz: it diverges alone"
	has "injected mode: shrunk to a handful of operations" \
		"^fsfuzz: minimal sequence: [1-8] of [0-9]+ ops"
	has "injected mode: the minimal sequence diverges" \
		"^fsfuzz: the minimal sequence diverges"
fi

totals
