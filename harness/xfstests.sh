#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xfstests.sh: xfstests side by side on the bare backing and fuse-bpf
# (make xfstests). Builds xfstests from ../shared/tools into
# build/xfstests/xfstests, then, one VM boot per configuration, runs the
# test list on each and writes results.md from whatever results exist.
#
# Environment:
#   XFSTESTS_CONFIGS  configurations to run, of
#                     "tmpfs ext4 overlay fusebpf fusebpf-daemon" (all)
#   XFSTESTS_LIST     the test list (default harness/xfstests/tests.list):
#                     a file, or test names separated by blanks
#   XFSTESTS_TIMEOUT  seconds a configuration's VM may run (default 3600)
#   XFSTESTS_TEST_LIMIT  seconds a test may run before it is killed and
#                     recorded as timed out (default 300; 0: no limit)
#   XFSTESTS_TABLE=0  do not rewrite harness/xfstests/results.md
# Results: build/xfstests/results/CONFIG/ (check.out is check's output).
. "$(dirname "$0")/lib.sh"

XT=$REPO/harness/xfstests
OUT=$BUILD/xfstests
SRC=$OUT/xfstests
TARBALL=${XFSTESTS_TARBALL:-$REPO/../shared/tools/xfstests-63a2972.tar.xz}
ALL_CONFIGS="tmpfs ext4 overlay fusebpf fusebpf-daemon"
configs=${XFSTESTS_CONFIGS:-$ALL_CONFIGS}
list=${XFSTESTS_LIST:-$XT/tests.list}
timeout=${XFSTESTS_TIMEOUT:-3600}
test_limit=${XFSTESTS_TEST_LIMIT:-300}

for c in $configs; do
	case " $ALL_CONFIGS " in
	*" $c "*) ;;
	*) die "unknown configuration $c (known: $ALL_CONFIGS)" ;;
	esac
done

# The Debian packages xfstests needs to build and run, only for this
# target (xfsprogs: xfs_io, which nearly every test uses; quota and
# dbench, dump and fio-based tests are not on the list).
PKGS=(
	xfslibs-dev uuid-dev libtool-bin automake autoconf make gcc
	libacl1-dev libaio-dev liburing-dev libgdbm-dev
	xfsprogs e2fsprogs attr acl gawk bc psmisc libcap2-bin
)
install_packages xfstests "$OUT/apt.log" "${PKGS[@]}"

# Build xfstests once (and again when the tarball or a patch changes).
build_lock xfstests
[ -f "$TARBALL" ] || die "no xfstests tarball at $TARBALL"
stamp=$(sha1sum "$TARBALL" "$XT"/*.patch | cut -d' ' -f1 | sha1sum | cut -d' ' -f1)
if [ "$(cat "$OUT/.built" 2>/dev/null)" != "$stamp" ]; then
	note "xfstests: building $(basename "$TARBALL") in $SRC (log: $OUT/build.log)"
	rm -rf "$SRC" "$OUT/.built"
	mkdir -p "$OUT"
	tar -xJf "$TARBALL" -C "$OUT"
	[ -x "$SRC/check" ] || die "$TARBALL has no xfstests/check"
	for p in "$XT"/*.patch; do
		patch -d "$SRC" -p1 -s <"$p" || die "$p does not apply"
	done
	make -C "$SRC" -j"$NPROC" >"$OUT/build.log" 2>&1 || {
		tail -n 30 "$OUT/build.log" >&2
		die "building xfstests failed (full log: $OUT/build.log)"
	}
	echo "$stamp" >"$OUT/.built"
fi
exec 8>&-

# The no-daemon mount helper and the sample daemon.
bash "$REPO/harness/sample.sh" >/dev/null

# (the guest sees build/, not the host's /tmp)
listfile=$OUT/list
if [ -f "$list" ]; then
	cp "$list" "$listfile"
else
	tr ' ' '\n' <<<"$list" | grep -v '^$' >"$listfile"
fi

# The commit the kernel was built from (make xfstests builds it first):
# commits made while the VMs run are not in it.
commit=$(git -C "$REPO" log -1 --format='%h %s')
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no -- \
	fs include kernel harness/configs MAINTAINERS.diff)" ] ||
	commit="$commit (and uncommitted kernel changes)"

rc=0
for c in $configs; do
	start=$(date +%s)
	note "xfstests: $c ($(grep -vc '^#' "$listfile") tests, log: $OUT/vm-$c.log)"
	# brd: two 1 GiB ramdisks for ext4 (test and scratch); tsc=reliable:
	# under TCG the TSC drifts against the jiffies watchdog
	FBT_APPEND="tsc=reliable brd.rd_nr=2 brd.rd_size=1048576 ${FBT_APPEND:-}" \
		bash "$REPO/harness/vm.sh" --name "xfstests-$c" --timeout "$timeout" \
		--mem 4096 -- "XFSTESTS_TEST_LIMIT=$test_limit bash '$XT/guest.sh' '$c' '$listfile'" \
		>"$OUT/vm-$c.log" 2>&1 || {
		note "xfstests: the $c run failed (see $OUT/vm-$c.log)"
		tail -n 5 "$OUT/vm-$c.log" >&2
		rc=1
	}
	if [ -d "$OUT/results/$c" ]; then
		echo $(($(date +%s) - start)) >"$OUT/results/$c/wall-seconds"
		echo "XFSTESTS_CONFIGS=$c XFSTESTS_LIST='$list' XFSTESTS_TIMEOUT=$timeout XFSTESTS_TEST_LIMIT=$test_limit make xfstests" \
			>"$OUT/results/$c/command"
		echo "$commit" >"$OUT/results/$c/commit"
	fi
	note "xfstests: $c took $(($(date +%s) - start)) s"
	grep -E '^(Ran|Not run|Failures|Failed|Passed all)' \
		"$OUT/results/$c/check.out" 2>/dev/null | sed 's/^/  /' >&2 || true
done

if [ "${XFSTESTS_TABLE:-1}" = 1 ]; then
	python3 "$XT/table.py" --results "$OUT/results" --list "$listfile" \
		--out "$XT/results.md" --repo "$REPO"
fi
exit $rc
