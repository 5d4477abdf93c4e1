#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# insnprof-guest.sh [WORKLOAD...]: the guest half of harness/insnprof.sh,
# run in a VM whose QEMU loads the insnprof plugin (insnprof.c). For each
# fsbench WORKLOAD (default stat) and each configuration of CONFIGS
# (default "native ovl fbnd fbndc fbd fbtriv"; the mounts are those of
# profile-guest.sh, see profile-mounts.sh), makes the workload's files
# untimed in the backing directory (fresh, as profile-guest.sh does) and
# runs fsbench's timed loop of SECS guest seconds (default 0.3, that is
# 3 * 10^8 instructions under icount) between two marks of insnmark.
# Region 0 is the plugin's self-test: a user-space loop of 10^7
# iterations of two instructions.
#
# Writes, in $INSNPROF_DIR: kallsyms (the guest's /proc/kallsyms, with
# the JIT-ed BPF programs) and regions.txt, a line per region (region i
# lies between marks 2i and 2i+1):
#   INDEX WORKLOAD CONFIG OPS NS
# with NS the guest clock between the marks. FBT_BENCH: the folder with
# fsbench, benchfs, trivial.bpf.o and insnmark.
set -euo pipefail

O=$FBT_BENCH
D=$INSNPROF_DIR
B=/tmp/prof
SECS=${SECS:-0.3}
LOOP=10000000
read -ra CONFIGS <<<"${CONFIGS:-native ovl fbnd fbndc fbd fbtriv}"
[ $# -gt 0 ] || set -- stat
cd /tmp
# as bench-guest.sh: a passthrough daemon holds a backing file per open node
ulimit -n 65536

echo 0 >/proc/sys/kernel/kptr_restrict
# JIT-ed programs are listed in /proc/kallsyms only when they are loaded
# with this on
echo 1 >/proc/sys/net/core/bpf_jit_kallsyms
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/profile-mounts.sh"
prof_mount
cat /proc/kallsyms >"$D/kallsyms"

R=$D/regions.txt
echo "# index workload config ops ns" >"$R"
n=0
"$O/insnmark" loop $LOOP 2>$B/mark
echo "$n selftest loop $LOOP $(awk '/^insnmark ns / { print $3 }' $B/mark)" >>"$R"
for w in "$@"; do
	for c in "${CONFIGS[@]}"; do
		fresh "$c" "$w"
		n=$((n + 1))
		if ! FSBENCH_HIDDEN=$(prof_hidden "$c") \
			"$O/insnmark" run "$O/fsbench" "$d" "$w" "$SECS" "$s" \
			>$B/out 2>$B/mark; then
			cat $B/mark
			exit 1
		fi
		read -r _ rate ops <$B/out
		echo "$n $w $c $ops $(awk '/^insnmark ns / { print $3 }' $B/mark)" >>"$R"
		echo "=== $w on $c: $ops ops, $rate ops/s"
	done
done
# the benchfs daemons may still hold the tmpfs a moment after their
# mounts go ("target is busy"): the counts are written, the VM ends
prof_umount 2>/dev/null || true
