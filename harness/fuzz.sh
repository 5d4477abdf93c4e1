#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: the differential fuzzer at length. Boots the VM kernel
# (DEBUG=1: the debug kernel of build/kernel-debug, with its own selftests
# build) and runs fsfuzz (tools/testing/selftests/filesystems/fuse/fsfuzz.c):
# a fuse-bpf mount against a bare tmpfs twin, processes of several uids
# with several threads each, results, errnos, data and the final trees
# compared (and the backing tree against the twin). The operations are
# split into runs of FUZZ_CHUNK, each on a fresh mount, taking the filter
# modes in turn: none (no BPF program), pass (prefilters that continue)
# and post (prefilters asking for postfilters: the whole pipeline); the
# mode cache (not in the default list) is post on a mount with the opt-in
# cache (backing_timeout=3600000: every change goes through the mount, so
# nothing may differ).
#
#   FUZZ_OPS      operations in all (default 1000000; 100000 with DEBUG=1)
#   FUZZ_SEED     run i uses seed FUZZ_SEED + i (default 20261207)
#   FUZZ_UIDS     one process per uid (default 0,1001,1002,1003)
#   FUZZ_THREADS  threads per process (default 2)
#   FUZZ_FILTERS  filter modes taken in turn (default "none pass post";
#                 also "cache")
#   FUZZ_CHUNK    operations per run (default 50000; 25000 with DEBUG=1)
#   FUZZ_TIMEOUT  seconds for the whole VM run (default 7200)
#   FSFUZZ        the fsfuzz binary (default: the selftests build's)
#
# Prints per run and in all: operations run, divergences, time, and per
# operation how many ran and succeeded; writes build/fuzz/report.txt
# (report-debug.txt with DEBUG=1). Exits non-zero on any divergence, on a
# run that could not run, or when the guest kernel log shows a splat. A
# divergence prints its seed, worker and op, the minimal sequence and the
# fsfuzz command that replays it.
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
inst=$O/kselftest_install/filesystems/fuse
# FSFUZZ: another fsfuzz binary (it needs no BTF of its own kernel: its
# BPF programs are relocated against the running kernel's when loaded).
fsfuzz=${FSFUZZ:-$inst/fsfuzz}
[ -x "$fsfuzz" ] ||
	die "no fsfuzz in $inst: run '${DEBUG:+DEBUG=$DEBUG }make selftests'"
[ -f "$O/arch/x86/boot/bzImage" ] || die "no kernel in $O: run 'make kernel'"

if [ "${DEBUG:-0}" = 1 ]; then
	ops=${FUZZ_OPS:-100000}
	chunk=${FUZZ_CHUNK:-25000}
	variant=debug
	report=$BUILD/fuzz/report-debug.txt
else
	ops=${FUZZ_OPS:-1000000}
	chunk=${FUZZ_CHUNK:-50000}
	variant=normal
	report=$BUILD/fuzz/report.txt
fi
seed=${FUZZ_SEED:-20261207}
uids=${FUZZ_UIDS:-0,1001,1002,1003}
threads=${FUZZ_THREADS:-2}
read -ra filters <<<"${FUZZ_FILTERS:-none pass post}"
timeout=${FUZZ_TIMEOUT:-7200}
[ "$ops" -gt 0 ] && [ "$chunk" -gt 0 ] || die "FUZZ_OPS and FUZZ_CHUNK must be positive"

out=$BUILD/fuzz/$variant
rm -rf "$out"
mkdir -p "$out"
# A copy: another make selftests reinstalls $inst while this runs.
cp "$fsfuzz" "$out/fsfuzz"

# The guest's part: one fsfuzz run per chunk, each logged.
{
	echo "cd '$out'"
	echo "echo \"fuzz: kernel \$(uname -r) \$(uname -v)\""
	echo "fail=0"
	i=0
	left=$ops
	while [ "$left" -gt 0 ]; do
		n=$((left < chunk ? left : chunk))
		f=${filters[$((i % ${#filters[@]}))]}
		[ "$f" = cache ] && f="post --cache 3600000"
		s=$((seed + i))
		echo "echo 'fuzz: run $i: fsfuzz --seed $s --ops $n --uids $uids --threads $threads --filter $f'"
		echo "./fsfuzz --seed $s --ops $n --uids $uids --threads $threads --filter $f >'$out/run-$i.log' 2>&1"
		echo "rc=\$?; grep -E '^fsfuzz: (ops run|readdir|BPF|DIVERGENCE|minimal|replay)' '$out/run-$i.log'"
		echo "echo \"fuzz: run $i exit \$rc\"; [ \$rc = 0 ] || fail=1"
		i=$((i + 1))
		left=$((left - n))
	done
	echo "exit \$fail"
} >"$out/guest.sh"

note "fuzz: $ops operations ($variant kernel, $(basename "$(dirname "$O")")/$(basename "$O")), seed $seed, uids $uids x $threads threads, filters ${filters[*]}, runs of $chunk"
start=$(date +%s)
set +e
bash "$REPO/harness/vm.sh" --name "fuzz-$variant" --timeout "$timeout" \
	--kernel "$O/arch/x86/boot/bzImage" -- "bash '$out/guest.sh'"
vmrc=$?
set -e
secs=$(($(date +%s) - start))

# Totals over the runs' logs.
commit=$(git -C "$REPO" rev-parse --short HEAD)
dirty=$(git -C "$REPO" status --porcelain --untracked-files=no | grep -c . || true)
[ "$dirty" = 0 ] || commit="$commit with $dirty tracked files changed"
kver=$(grep -a -m 1 '^fuzz: kernel ' "$BUILD/vm/fuzz-$variant/console.log" | sed 's/^fuzz: //' || true)
when=$(date -u '+%Y-%m-%d %H:%M UTC')
{
	echo "fuzz: $when, commit $commit, $variant kernel ($O): $kver"
	echo "fuzz: FUZZ_OPS=$ops FUZZ_SEED=$seed FUZZ_UIDS=$uids FUZZ_THREADS=$threads FUZZ_FILTERS='${filters[*]}' FUZZ_CHUNK=$chunk"
	cat "$out"/run-*.log 2>/dev/null | awk -v secs="$secs" '
		# fsfuzz: ops run N (succeeded N, failed N), divergences N (...), T s
		/^fsfuzz: ops run / {
			runs++
			ops += $4
			ok += $6 + 0
			failed += $8 + 0
			div += $10 + 0
			fuzzsecs += $(NF - 1)
		}
		/^fsfuzz:   [a-z]/ {
			for (i = 2; i < NF; i += 2) {
				split($(i + 1), v, "/")
				if (!(($i) in run)) order[n++] = $i
				okc[$i] += v[1]; run[$i] += v[2]
			}
		}
		# fsfuzz: readdir while renaming, SIDE: N listings, N renames (N failed), N violations...
		/^fsfuzz: readdir while renaming/ {
			listings += $6
			renames += $8
			match($0, /[0-9]+ violations/)
			viol += substr($0, RSTART, RLENGTH) + 0
		}
		/^fsfuzz: BPF filter calls/ { pre += $5; post += $7 }
		/^fsfuzz: DIVERGENCE/ { print }
		END {
			printf "fuzz: %d runs, ops run %d (succeeded %d, failed %d), divergences %d, readdir-while-renaming violations %d, %d s in fsfuzz (%d s with the VM)\n", runs, ops, ok, failed, div, viol, fuzzsecs, secs
			printf "fuzz: readdir while renaming: %d listings, %d renames; BPF filter calls: %d prefilter, %d postfilter\n", listings, renames, pre, post
			printf "fuzz: per op (succeeded/run):"
			for (i = 0; i < n; i++)
				printf "%s %s %d/%d", i % 6 ? "" : "\nfuzz:  ", order[i], okc[order[i]], run[order[i]]
			printf "\n"
		}'
} | tee "$report"
note "fuzz: report in $report, run logs in $out"

runs_ok=$(grep -c '^fsfuzz: PASS' "$out"/run-*.log 2>/dev/null | awk -F: '{ s += $NF } END { print s + 0 }')
nruns=$(ls "$out"/run-*.log 2>/dev/null | wc -l)
[ "$vmrc" = 0 ] || die "fuzz: the VM run failed (exit $vmrc: a divergence, a run that could not run, or a splat; see above)"
[ "$nruns" -gt 0 ] && [ "$runs_ok" = "$nruns" ] || die "fuzz: $runs_ok of $nruns runs passed"
note "fuzz: PASS ($nruns runs)"
