# SPDX-License-Identifier: GPL-2.0
#
# TAP output and helpers of the fuse shell tests (sample_test.sh,
# mount_helper_test.sh); sourced, never run. ok/not_ok/skip print one
# test line and count it; totals prints the plan and the totals and exits
# with the kselftest status.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

n=0
npass=0
nfail=0
nskip=0

ok() {
	n=$((n + 1))
	npass=$((npass + 1))
	echo "ok $n $1"
}

# not_ok NAME [LINE...]: a failed test and what it saw, as comments
not_ok() {
	n=$((n + 1))
	nfail=$((nfail + 1))
	echo "not ok $n $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}

skip() {
	n=$((n + 1))
	nskip=$((nskip + 1))
	echo "ok $n $1 # SKIP $2"
}

# check NAME COMMAND...: one test line for whether COMMAND succeeds
check() {
	local name=$1 out

	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "failed: $*" "$out"
	fi
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit $KSFT_SKIP
}

# as UID COMMAND...: run COMMAND as another user
as() {
	local uid=$1

	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

totals() {
	echo "1..$n"
	echo "# Totals: pass:$npass fail:$nfail skip:$nskip"
	[ "$nfail" = 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}
