#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make faults: fuse-bpf under systematic fault injection on the debug
# kernel (KASAN, lockdep, kmemleak, hung-task detection, fail-nth).
# Runs the failnth_test kselftest in the VM: every syscall a backed node
# serves, with its 1st, 2nd, ... allocation failing, on a no-daemon mount
# and on one with filters attached; the *_fuse variants count only the
# allocations with fs/fuse code on the stack (the stack trace filter,
# given the text range of fs/fuse taken from System.map here).
#
# Writes harness/faults/results.md (the table of injection points hit
# per syscall and their outcomes) and keeps the raw log in
# build/faults/failnth.log. Fails on a failing case, a splat in the
# kernel log or a kmemleak report (vm.sh checks both).
# FAULTS_FILTER: a kselftest_harness selection (say "-f failnth" or
# "-r failnth.no_daemon.read"); FAULTS_TIMEOUT: VM seconds (3600).
. "$(dirname "$0")/lib.sh"

export DEBUG=1
O=$(kernel_out)
bash "$REPO/harness/kbuild.sh"
bash "$REPO/harness/selftests.sh"
inst=$O/kselftest_install/filesystems/fuse
[ -x "$inst/failnth_test" ] || die "no $inst/failnth_test: the selftests did not build it"
grep -qx CONFIG_FAULT_INJECTION_STACKTRACE_FILTER=y "$O/.config" ||
	die "the debug kernel lacks fault injection: see harness/configs/debug.config"

# The text of some objects (say fs/fuse/*.o): the longest run of
# System.map text symbols that they define, leaving out names defined
# more than once (btf_id_cmp_func, KASAN's constructors), up to the
# next symbol.
# No KASLR in the VM kernel, so these are the guest's addresses.
text_range() {
	# names defined more than once (KASAN's _sub_I_65535_1 constructors)
	awk '{ print $3 }' "$O/System.map" | sort | uniq -d >"$work/dups"
	nm --defined-only "$@" 2>/dev/null |
		awk '$2 ~ /^[tT]$/ { print $3 }' | sort -u |
		comm -23 - "$work/dups" >"$work/names"
	# a name defined more than once neither starts nor breaks a run
	awk 'FILENAME == ARGV[1] { want[$1] = 1; next }
	     FILENAME == ARGV[2] { dup[$1] = 1; next }
	     $2 !~ /^[tT]$/ { next }
	     {
		n++; addr[n] = $1
		if (run && n == last + 1 && ($3 in dup)) { last = n; next }
		if ($3 in want) {
			if (run && n == last + 1) { len++ } else { run = 1; first = n; len = 1 }
			last = n
			if (len > best) { best = len; bfirst = first; blast = n }
		}
	     }
	     END {
		if (best < 20 || !(blast + 1 in addr)) exit 1
		print addr[bfirst], addr[blast + 1], best
	     }' "$work/names" "$work/dups" "$O/System.map"
}

work=$BUILD/faults
mkdir -p "$work"
read -r tstart tend nsyms < <(text_range "$O"/fs/fuse/*.o) ||
	die "cannot find the fs/fuse text in $O/System.map"
note "faults: fs/fuse text 0x$tstart-0x$tend ($nsyms symbols)"
# vmalloc() is left out of the injection: see failnth_test.c.
read -r vstart vend vsyms < <(text_range "$O/mm/vmalloc.o") ||
	die "cannot find the mm/vmalloc.o text in $O/System.map"

log=$work/failnth.log
filter=${FAULTS_FILTER:-}
cmd="cd '$inst' && FAILNTH_FUSE_TEXT='$tstart $tend' FAILNTH_REJECT_TEXT='$vstart $vend'"
cmd+=" ./failnth_test $filter"
start=$(date +%s)
set +e
bash "$REPO/harness/vm.sh" --name faults --timeout "${FAULTS_TIMEOUT:-3600}" -- "$cmd" 2>&1 |
	tee "$log"
rc=${PIPESTATUS[0]}
set -e
secs=$(($(date +%s) - start))

# The results: one line per variant and syscall.
res=$REPO/harness/faults/results.md
mkdir -p "$(dirname "$res")"
commit=$(git -C "$REPO" rev-parse --short HEAD)
dirty=$(git -C "$REPO" status --porcelain -- fs include kernel tools harness/configs |
	grep -q . && echo " (with uncommitted changes)" || true)
pass=$(grep -ac '^ok .*failnth\.' "$log" | tr -d ' ' || true)
skip=$(grep -ac '^ok .*# SKIP' "$log" || true)
fails=$(grep -a '^not ok .*failnth\.' "$log" | sed 's/^not ok [0-9]* //' || true)
splats=$(grep -aE 'vm: kernel log shows a splat|vm:   ' "$log" || true)
leaks=$(grep -ac 'unreferenced object' "$log" || true)
{
	echo "# make faults: fuse-bpf under fail-nth fault injection"
	echo
	echo "Written by \`harness/faults.sh\` (\`make faults\`); do not edit by hand."
	echo
	echo "- command: \`make faults\`${filter:+ with FAULTS_FILTER=\"$filter\"}"
	echo "  (the VM runs \`$inst/failnth_test\`)"
	echo "- kernel: the debug kernel (harness/configs/debug.config) at commit $commit$dirty"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), $secs s including the boot"
	echo "- fs/fuse text for the *_fuse variants: 0x$tstart-0x$tend ($nsyms symbols);"
	echo "  never injected inside mm/vmalloc.o (0x$vstart-0x$vend, $vsyms symbols): a"
	echo "  failing vmalloc() logs a stack trace by design (kvmalloc() falls back to it)"
	echo "- cases: $((pass - skip)) passed, $skip skipped, $(printf '%s' "$fails" | grep -c . || true) failed"
	echo "- kernel log: $([ -n "$splats" ] && echo "SPLAT (see build/faults/failnth.log)" || echo "no oops, KASAN, lockdep, hung-task or WARNING report")"
	echo "- kmemleak (two scans after the run): $leaks unreferenced objects"
	echo "- VM exit status: $rc"
	echo
	echo "Points: the injection points (slab or page allocations) the syscall"
	echo "reached; for each N in 1..points the Nth one failed. ENOMEM: the"
	echo "syscall failed with ENOMEM, as it must. ENOSPC: what tmpfs, the backing,"
	echo "reports for a new inode it could not allocate (create, mkdir, symlink;"
	echo "shmem_get_inode(), the same without fuse-bpf). Absorbed: the syscall still"
	echo "succeeded, with the right result (an allocation with a fallback, or"
	echo "kmemleak's own metadata). Any other errno, a wrong result, or mount and"
	echo "backing disagreeing afterwards fails the case."
	echo "The counts move by a few from run to run: allocations of the debug"
	echo "kernel's own bookkeeping (KASAN, kmemleak) and slab refills depend on"
	echo "what came before."
	echo
	echo "| variant | syscall | points | ENOMEM | ENOSPC | absorbed |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	grep -a 'failnth: ' "$log" | sed 's/.*failnth: //' | tr -d '\r' |
		awk '{ split($3, p, "="); split($4, e, "="); split($5, a, "=");
		       split($6, s, "=");
		       printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, p[2], e[2],
			      s[2], a[2] }'
	if [ -n "$fails" ]; then
		echo
		echo "Failing cases:"
		echo
		printf '%s\n' "$fails" | sed 's/^/- /'
	fi
	if [ -n "$splats" ]; then
		echo
		echo "Kernel log:"
		echo
		printf '%s\n' "$splats" | sed 's/^/    /'
	fi
} >"$res"
note "faults: results in $res"
exit "$rc"
