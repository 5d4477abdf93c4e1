#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every fuse kselftest in the VM, print the TAP output, and end with
# "N passed, N failed, N skipped". Counts are per test case (the
# kselftest_harness subtests); a test program that fails or crashes
# without reporting a failing case counts as one failure. Exits non-zero
# on any failure, on a guest splat, or when no test ran.
. "$(dirname "$0")/lib.sh"

O=$(kernel_out)
inst=$O/kselftest_install
[ -x "$inst/run_kselftest.sh" ] || die "no kselftests installed in $inst: run 'make selftests'"
out=$BUILD/vm/test-output.tap
mkdir -p "$BUILD/vm"
rm -f "$BUILD/vm/test-summary"

# The sample daemon, which sample_test.sh drives, the mount helper
# built beside it, which mount_helper_test.sh installs in the guest, the
# request-program sample, which reqcache_test.sh drives, and the union
# sample, which union_test.sh drives.
sample=$(bash "$REPO/harness/sample.sh") || die "the sample daemon does not build"
helper=$(dirname "$sample")/mount.fuse.fuse-bpf
[ -x "$helper" ] || die "the mount helper $helper was not built"
reqcache=$(dirname "$sample")/fuse_bpf_reqcache
[ -x "$reqcache" ] || die "the request-program sample $reqcache was not built"
union=$(dirname "$sample")/fuse_bpf_union
[ -x "$union" ] || die "the union sample $union was not built"

# FBT_TEST_KERNEL: another bzImage to run them on (modcheck.sh's, with
# fuse as a module); FBT_TEST_SETUP: a command run first (its insmod).
kopt=()
[ -n "${FBT_TEST_KERNEL:-}" ] && kopt=(--kernel "$FBT_TEST_KERNEL")
setup=${FBT_TEST_SETUP:-true}

set +e
bash "$REPO/harness/vm.sh" --name test "${kopt[@]}" \
	--timeout "${FBT_TEST_TIMEOUT:-2400}" -- \
	"$setup && cd '$inst' && FUSE_BPF_SAMPLE='$sample' FUSE_BPF_MOUNT_HELPER='$helper' FUSE_BPF_REQCACHE='$reqcache' FUSE_BPF_UNION='$union' ./run_kselftest.sh" |
	tee "$out"
vmrc=${PIPESTATUS[0]}
set -e

# Parse the TAP: top-level lines are per program, "# " prefixed lines
# are the test cases of the program being run.
read -r pass fail skip progfail < <(awk '
	/^# selftests: / { ncases = 0; casefail = 0; next }
	/^# (ok|not ok) [0-9]+ / {
		ncases++
		if ($0 ~ /# SKIP/) skip++
		else if ($2 == "ok") pass++
		else { fail++; casefail = 1 }
		next
	}
	/^(ok|not ok) [0-9]+ / {
		if ($0 ~ /# SKIP/) { if (ncases == 0) skip++ }
		else if ($1 == "not" && !casefail) progfail++
		else if (ncases == 0) pass++
		ncases = 0; casefail = 0
		next
	}
	END { print pass + 0, fail + 0, skip + 0, progfail + 0 }
' "$BUILD/vm/test/console.log")
fail=$((fail + progfail))
if [ "$vmrc" != 0 ] && [ "$fail" = 0 ]; then
	note "test: the VM run failed (see above); counting it as a failure"
	fail=$((fail + 1))
fi
if [ $((pass + fail)) = 0 ]; then
	note "test: no test ran"
	fail=1
fi
echo "$pass passed, $fail failed, $skip skipped" | tee "$BUILD/vm/test-summary"
[ "$fail" = 0 ]
