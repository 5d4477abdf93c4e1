#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh CONFIG LIST: run in the VM by harness/xfstests.sh (which
# passes XFSTESTS_TEST_LIMIT). Runs the
# xfstests built in build/xfstests/xfstests on one configuration, with
# the tests named in the file LIST, and writes its results to
# build/xfstests/results/CONFIG (check's own result files, and check's
# output in check.out).
#
# CONFIG is one of
#   tmpfs            bare tmpfs
#   ext4             bare ext4 on a brd ramdisk (/dev/ram0, /dev/ram1)
#   overlay          overlayfs over tmpfs (./check -overlay)
#   fusebpf          fuse-bpf without a daemon (mount.fuse.fuse-bpf)
#   fusebpf-daemon   fuse-bpf with the sample daemon fuse_bpf_mirror
# Test and scratch "devices" of the fuse-bpf configurations are
# directories on tmpfs.
. "$(dirname "$0")/../lib.sh"

config=$1
list=$2
XFS=$BUILD/xfstests/xfstests
SAMPLE=$BUILD/sample
results=$BUILD/xfstests/results/$config
work=/tmp/xfs

[ -x "$XFS/check" ] || die "no $XFS/check: harness/xfstests.sh builds it"
[ -f "$list" ] || die "no test list $list"

# The users and group xfstests wants, in private copies of /etc/passwd,
# group, shadow and gshadow bind-mounted over the host's (read-only) ones.
mkdir -p "$work/etc"
cp /etc/passwd /etc/group "$work/etc/"
cat >>"$work/etc/passwd" <<'EOF'
fsgqa:x:2001:2001:xfstests:/tmp/xfs/home:/bin/bash
fsgqa2:x:2002:2002:xfstests:/tmp/xfs/home:/bin/bash
123456-fsgqa:x:2003:2001:xfstests:/tmp/xfs/home:/bin/bash
EOF
cat >>"$work/etc/group" <<'EOF'
fsgqa:x:2001:fsgqa,123456-fsgqa
fsgqa2:x:2002:fsgqa2
EOF
# (su's PAM account check reads the users' shadow entries too)
cp /etc/shadow /etc/gshadow "$work/etc/"
for u in fsgqa fsgqa2 123456-fsgqa; do
	echo "$u:*:20000:0:99999:7:::" >>"$work/etc/shadow"
done
printf 'fsgqa:!::fsgqa,123456-fsgqa\nfsgqa2:!::fsgqa2\n' >>"$work/etc/gshadow"
for f in passwd group shadow gshadow; do
	mount --bind "$work/etc/$f" "/etc/$f"
done
mkdir -p "$work/home"
chmod 0777 "$work/home"

# mount(8) looks for mount.fuse.SUBTYPE in /sbin only: an overlay over
# /usr/sbin (upper layer on tmpfs) takes the helpers.
sbin_helpers() {
	mkdir -p "$work/sbin-up" "$work/sbin-work"
	mount -t overlay overlay \
		-o "lowerdir=/usr/sbin,upperdir=$work/sbin-up,workdir=$work/sbin-work" \
		/usr/sbin
	cp "$SAMPLE/mount.fuse.fuse-bpf" /usr/sbin/mount.fuse.fuse-bpf
	# mount(8) runs helpers with a clean environment: name the daemon here
	{
		echo '#!/bin/bash'
		printf 'FUSE_BPF_MIRROR=%q exec /bin/bash %q "$@"\n' \
			"$SAMPLE/fuse_bpf_mirror" \
			"$REPO/harness/xfstests/mount.fuse.fuse_bpf_mirror"
	} >/usr/sbin/mount.fuse.fuse_bpf_mirror
	chmod 0755 /usr/sbin/mount.fuse.fuse_bpf_mirror
}

mkdir -p "$work/test" "$work/scratch"
cfg=$work/local.config
check_args=()
case "$config" in
tmpfs | overlay)
	cat >"$cfg" <<EOF
export FSTYP=tmpfs
export TEST_DEV=tmpfs_test
export TEST_DIR=$work/test
export SCRATCH_DEV=tmpfs_scratch
export SCRATCH_MNT=$work/scratch
EOF
	[ "$config" = tmpfs ] || check_args=(-overlay)
	;;
ext4)
	[ -b /dev/ram0 ] && [ -b /dev/ram1 ] ||
		die "no /dev/ram0 and /dev/ram1 (brd.rd_nr=2 on the kernel command line)"
	mkfs.ext4 -q -F /dev/ram0
	mkfs.ext4 -q -F /dev/ram1
	cat >"$cfg" <<EOF
export FSTYP=ext4
export TEST_DEV=/dev/ram0
export TEST_DIR=$work/test
export SCRATCH_DEV=/dev/ram1
export SCRATCH_MNT=$work/scratch
EOF
	;;
fusebpf | fusebpf-daemon)
	sbin_helpers
	mkdir -p "$work/test-src" "$work/scratch-src"
	subtype=.fuse-bpf
	[ "$config" = fusebpf ] || subtype=.fuse_bpf_mirror
	cat >"$cfg" <<EOF
export FSTYP=fuse
export FUSE_SUBTYP=$subtype
export TEST_DEV=$work/test-src
export TEST_DIR=$work/test
export SCRATCH_DEV=$work/scratch-src
export SCRATCH_MNT=$work/scratch
export MOUNT_OPTIONS="-o allow_other,default_permissions"
export TEST_FS_MOUNT_OPTS="-o allow_other,default_permissions"
EOF
	;;
*)
	die "unknown configuration $config"
	;;
esac

# A test that runs longer than XFSTESTS_TEST_LIMIT seconds (under TCG a
# few loop thousands of times) is killed, with everything it started, and
# named in timeouts; check records it as failed and goes on.
limit=${XFSTESTS_TEST_LIMIT:-0}
kill_tree() {
	local c
	kill -STOP "$1" 2>/dev/null || return 0
	for c in $(pgrep -P "$1"); do
		kill_tree "$c"
	done
	kill -KILL "$1" 2>/dev/null || true
}
watchdog() {
	local pid cur='' start=0 path name
	while sleep 5; do
		# (bash runs ./tests/generic/NNN by its full path)
		pid=$(pgrep -o -f '^/bin/bash (.*/)?tests/[a-z]+/[0-9]+$') || {
			cur=''
			continue
		}
		if [ "$pid" != "$cur" ]; then
			cur=$pid
			start=$SECONDS
			continue
		fi
		[ $((SECONDS - start)) -ge "$limit" ] || continue
		# (the test may have ended since pgrep)
		path=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		       awk '{ print $2 }') || continue
		[ -n "$path" ] || continue
		name=$(basename "$(dirname "$path")")/$(basename "$path")
		echo "$name $((SECONDS - start))" >>"$results/timeouts"
		kill_tree "$pid"
		cur=''
	done
}

rm -rf "$results"
mkdir -p "$results"
cp "$cfg" "$results/local.config"
uname -r >"$results/kernel"
cd "$XFS"
export HOST_OPTIONS=$cfg RESULT_BASE=$results
# check's output, as it goes (the 9p share keeps it if the VM is killed)
wd=
if [ "$limit" -gt 0 ]; then
	watchdog &
	wd=$!
fi
set +e
./check "${check_args[@]}" $(grep -v '^#' "$list") 2>&1 | tee "$results/check.out"
rc=${PIPESTATUS[0]}
set -e
[ -z "$wd" ] || kill "$wd"
echo "check exited with status $rc" | tee -a "$results/check.out"
# check exits 1 when a test failed: only a run that stopped early is an error
grep -q '^Interrupted!' "$results/check.out" && exit 1
grep -qE '^(Passed all|Failed|Not run)' "$results/check.out" || exit 1
exit 0
