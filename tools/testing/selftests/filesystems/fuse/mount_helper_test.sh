#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The mount(8) helper for no_daemon mounts (samples/fuse/mount_fuse_bpf.c)
# as a user meets it: installed as /sbin/mount.fuse.fuse-bpf, then
#
#	mount -t fuse.fuse-bpf SOURCE TARGET -o OPTIONS
#
# mounts SOURCE through fuse-bpf. The test runs in a mount namespace of its
# own, where an overlay over /sbin (upper layer on tmpfs) takes the helper,
# so that nothing outside the test, and no file of the real /sbin, changes.
#
# FUSE_BPF_MOUNT_HELPER names the built helper; without it the test is
# skipped.

. "$(dirname "$0")/tap_helpers.sh"

OTHER_UID=65534

tmp=

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$FUSE_BPF_MOUNT_HELPER" ] ||
	skip_all "FUSE_BPF_MOUNT_HELPER (the mount.fuse.fuse-bpf binary) not set"
[ -x "$FUSE_BPF_MOUNT_HELPER" ] ||
	skip_all "FUSE_BPF_MOUNT_HELPER=$FUSE_BPF_MOUNT_HELPER is not executable"
grep -qw fuse /proc/filesystems || skip_all "no fuse in /proc/filesystems"
for tool in mount umount unshare setpriv install; do
	command -v $tool >/dev/null || skip_all "$tool (util-linux, coreutils) missing"
done

# Everything below runs in a private mount namespace.
if [ -z "$FUSE_BPF_MH_NS" ]; then
	FUSE_BPF_MH_NS=1 exec unshare -m --propagation private -- "$BASH" "$0" "$@"
	skip_all "unshare -m failed"
fi

cleanup() {
	if [ -n "$tmp" ]; then
		umount -l "$tmp/mnt" 2>/dev/null
		umount -l "$sbin" 2>/dev/null
		umount -l "$tmp" 2>/dev/null
		rmdir "$tmp"
	fi
}
trap cleanup EXIT

# fails_with STATUS TEXT COMMAND...: COMMAND exits with STATUS, saying TEXT
fails_with() {
	local status=$1 msg=$2 out rc

	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc != "$status" ]; then
		echo "exit status $rc, not $status: $*: $out"
		return 1
	fi
	case "$out" in
	*"$msg"*) return 0 ;;
	esac
	echo "exit status $rc, but not '$msg': $out"
	return 1
}

# mountinfo FIELD: a field of the mountinfo line of $mnt: opts (of the
# mount), type, source, super (the super block's options); nothing when
# $mnt is not a mount point
mountinfo() {
	awk -v mnt="$mnt" -v want="$1" '$5 == mnt {
		for (i = 7; $i != "-"; i++)
			;
		if (want == "opts") print $6
		if (want == "type") print $(i + 1)
		if (want == "source") print $(i + 2)
		if (want == "super") print $(i + 3)
	}' /proc/self/mountinfo
}

not_mounted() {
	[ -z "$(mountinfo type)" ] || {
		echo "$mnt is mounted: $(grep " $mnt " /proc/self/mountinfo)"
		return 1
	}
}

# has_opts LIST OPT...: every OPT is an option of the comma-separated LIST
has_opts() {
	local list=,$1, opt

	shift
	for opt in "$@"; do
		case "$list" in
		*",$opt,"*) ;;
		*) echo "no $opt in $1"; return 1 ;;
		esac
	done
}

# fails_unmounted NAME STATUS TEXT COMMAND...: fails_with, and $mnt stays
# unmounted
fails_unmounted() {
	local name=$1 out

	shift
	if out=$(fails_with "$@") && out=$(not_mounted); then
		ok "$name"
	else
		not_ok "$name" "$out"
		umount "$mnt" 2>/dev/null
	fi
}

helper=$FUSE_BPF_MOUNT_HELPER

echo "TAP version 13"

tmp=$(mktemp -d /tmp/fuse-bpf-mount-helper.XXXXXX) || exit $KSFT_FAIL
mount -t tmpfs -o mode=0755 fuse-bpf-mh "$tmp" || skip_all "cannot mount tmpfs"
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt" "$tmp/up" "$tmp/work" "$tmp/lower"
echo "in the source before the mount" >"$src/file"

# The helper by itself: usage.
out=$("$helper" --help 2>&1)
rc=$?
if [ $rc = 0 ] && [[ "$out" == "usage: mount.fuse.fuse-bpf SOURCE TARGET"* ]]; then
	ok "help_usage"
else
	not_ok "help_usage" "exit $rc, output: $out"
fi
check "no_target_usage" fails_with 1 "no TARGET given" "$helper" "$src"
check "other_type_refused" fails_with 1 "-t fuse.other" \
	"$helper" -t fuse.other "$src" "$mnt"

# Install it where mount(8) looks: /sbin/mount.fuse.fuse-bpf, in the
# overlay. util-linux 2.38 looks for mount.fuse.fuse-bpf, then
# mount.fuse, in /sbin, then /sbin/fs.d and /sbin/fs: with fuse3's
# /sbin/mount.fuse, only /sbin works.
sbin=$(readlink -f /sbin)
mount --bind "$sbin" "$tmp/lower" || skip_all "cannot bind-mount $sbin"
had_helper=no
[ -e "$tmp/lower/mount.fuse.fuse-bpf" ] && had_helper=yes
mount -t overlay -o "lowerdir=$sbin,upperdir=$tmp/up,workdir=$tmp/work" \
	fuse-bpf-mh-sbin "$sbin" || skip_all "cannot mount an overlay over $sbin"
check "install" install -m 755 "$helper" /sbin/mount.fuse.fuse-bpf
check "installed_in_overlay" cmp "$tmp/up/mount.fuse.fuse-bpf" "$helper"
has_helper=no
[ -e "$tmp/lower/mount.fuse.fuse-bpf" ] && has_helper=yes
check "real_sbin_unchanged" test $has_helper = $had_helper

# The one command.
check "mount" mount -t fuse.fuse-bpf "$src" "$mnt" \
	-o backing_timeout=500,allow_other
check "mountinfo_type" test "$(mountinfo type)" = fuse.fuse-bpf
check "mountinfo_source" test "$(mountinfo source)" = "$src"
check "mountinfo_options" has_opts "$(mountinfo super)" no_daemon \
	allow_other backing_timeout=500
check "mountinfo_rw" has_opts "$(mountinfo opts)" rw
check "read_existing" cmp "$mnt/file" "$src/file"
echo "written in the source after the mount" >"$src/new"
check "read_back" test "$(cat "$mnt/new")" = "written in the source after the mount"
echo "written through the mount" >"$mnt/made"
check "write_lands_in_source" test "$(cat "$src/made")" = "written through the mount"
check "allow_other_reads" test "$(as $OTHER_UID cat "$mnt/file")" = \
	"in the source before the mount"
check "umount" umount "$mnt"
check "umounted" not_mounted
check "source_kept" cmp "$src/file" - <<<"in the source before the mount"

# -o ro: writes fail with EROFS; without allow_other, others may not enter.
check "mount_ro" mount -t fuse.fuse-bpf "$src" "$mnt" -o ro
check "mountinfo_ro" has_opts "$(mountinfo opts)" ro
check "ro_write" fails_with 1 "Read-only file system" \
	bash -c "echo x >>'$mnt/file'"
check "ro_create" fails_with 1 "Read-only file system" touch "$mnt/ro-new"
check "ro_source_unchanged" test ! -e "$src/ro-new" -a \
	"$(cat "$src/file")" = "in the source before the mount"
check "ro_reads" cmp "$mnt/file" "$src/file"
check "no_allow_other_denies" fails_with 1 "Permission denied" \
	as $OTHER_UID cat "$mnt/file"
check "umount_ro" umount "$mnt"

# mount -o remount: mount(8) runs the helper with "remount" and the
# mount's own options; the flags change, the fuse options stay.
check "mount_for_remount" mount -t fuse.fuse-bpf "$src" "$mnt" -o allow_other
check "remount_ro" mount -o remount,ro "$mnt"
check "remounted_ro" has_opts "$(mountinfo opts)" ro
check "remounted_ro_super" has_opts "$(mountinfo super)" ro no_daemon \
	allow_other
check "remount_ro_write" fails_with 1 "Read-only file system" \
	bash -c "echo x >>'$mnt/file'"
check "remount_ro_reads" test "$(as $OTHER_UID cat "$mnt/file")" = \
	"in the source before the mount"
check "remount_rw" mount -o remount,rw "$mnt"
check "remounted_rw" has_opts "$(mountinfo opts)" rw
check "remount_rw_write" bash -c "echo remounted >'$mnt/rw'"
check "remount_rw_lands" test "$(cat "$src/rw")" = remounted
# (mount(8) runs no helper for remount,bind: run it by hand)
check "remount_bind_noexec" "$helper" "$src" "$mnt" -o remount,bind,noexec
check "remounted_bind_noexec" has_opts "$(mountinfo opts)" rw noexec
check "remounted_bind_super_rw" has_opts "$(mountinfo super)" rw
check "remount_keeps_fuse_options" "$helper" "$src" "$mnt" \
	-o remount,bind,fd=3,no_daemon,allow_other,user_id=0
check "remount_other_user" fails_with 32 "Operation not permitted" \
	as $OTHER_UID "$helper" "$src" "$mnt" -o remount,ro
check "remount_other_user_unchanged" has_opts "$(mountinfo opts)" rw
call="mount(\"$src\", \"$mnt\", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) (not called: -f)"
out=$("$helper" -f -v "$src" "$mnt" -o remount,bind,ro 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = "$call" ]; then
	ok "remount_fake_verbose"
else
	not_ok "remount_fake_verbose" "exit $rc, output: $out" "expected: $call"
fi
check "umount_remounted" umount "$mnt"
check "remount_not_mounted" fails_with 32 "not the root of a fuse mount" \
	"$helper" "$src" "$mnt" -o remount,ro
check "remount_not_fuse" fails_with 32 "not the root of a fuse mount" \
	"$helper" "$tmp" "$tmp" -o remount,ro
check "remount_root_refused" fails_with 32 "not the root of a fuse mount" \
	"$helper" / / -o remount,ro

# Refused options and sources: mount(8)'s exit codes, nothing mounted.
fails_unmounted "option_fd_refused" 1 "option fd=3: not allowed" \
	mount -t fuse.fuse-bpf "$src" "$mnt" -o allow_other,fd=3
for opt in root_dir=3 no_daemon fuse_bpf subtype=other rootmode=40000 ops=1 \
	   source=x; do
	fails_unmounted "option_${opt%%=*}_refused" 1 "option $opt: not allowed" \
		mount -t fuse.fuse-bpf "$src" "$mnt" -o "$opt"
done
fails_unmounted "bind_refused" 1 "option bind: not supported" \
	"$helper" "$src" "$mnt" -o bind
fails_unmounted "quoted_remount_is_not_remount" 1 "option bind: not supported" \
	"$helper" "$src" "$mnt" -o 'bind,x-a="b,remount,c"'
fails_unmounted "quoted_remount_keeps_refusal" 1 "option fd=3: not allowed" \
	"$helper" "$src" "$mnt" -o 'comment="x,remount,y",fd=3'
out=$("$helper" -f -v "$src" "$mnt" -o x-remount 2>&1)
rc=$?
if [ $rc = 0 ] && [[ "$out" == *'"fuse", 0, "no_daemon,root_dir='* ]]; then
	ok "x_remount_is_a_mount"
else
	not_ok "x_remount_is_a_mount" "exit $rc, output: $out"
fi
fails_unmounted "unknown_option_kernel_einval" 32 "Invalid argument" \
	mount -t fuse.fuse-bpf "$src" "$mnt" -o no_such_option
fails_unmounted "source_not_a_directory" 32 "$src/file: Not a directory" \
	mount -t fuse.fuse-bpf "$src/file" "$mnt"
fails_unmounted "source_missing" 32 "$tmp/none: No such file or directory" \
	mount -t fuse.fuse-bpf "$tmp/none" "$mnt"
fails_unmounted "nofail_source_missing" 0 "" \
	mount -t fuse.fuse-bpf "$tmp/none" "$mnt" -o nofail
fails_unmounted "target_missing" 32 "$tmp/nodir: No such file or directory" \
	"$helper" "$src" "$tmp/nodir"
fails_unmounted "not_root" 32 "Operation not permitted" \
	as $OTHER_UID mount -t fuse.fuse-bpf "$src" "$mnt"

# -f mounts nothing; -v prints the mount(2) call; options for mount(8)
# alone are dropped; -s drops what the kernel's fuse does not take.
data=no_daemon,root_dir=N,subtype=fuse-bpf,allow_other,backing_timeout=7
call="mount(\"$src\", \"$mnt\", \"fuse\", MS_NOSUID|MS_NOEXEC, \"$data\") (not called: -f)"
opts=defaults,nosuid,'x-foo="a,b"',noexec,nofail,_netdev,allow_other
opts=$opts,comment=c,noauto,backing_timeout=7
out=$("$helper" "$src" "$mnt" -f -v -o "$opts" 2>&1)
rc=$?
out=$(sed -E 's/root_dir=[0-9]+,/root_dir=N,/' <<<"$out")
if [ $rc = 0 ] && [ "$out" = "$call" ] && out2=$(not_mounted); then
	ok "fake_verbose"
else
	not_ok "fake_verbose" "exit $rc, output: $out" "expected: $call" "$out2"
fi
out=$(mount -f -v -t fuse.fuse-bpf "$src" "$mnt" -o allow_other 2>&1)
rc=$?
if [ $rc = 0 ] && [[ "$out" == *"(not called: -f)"* ]] && out2=$(not_mounted); then
	ok "mount_fake_runs_helper_with_f_v"
else
	not_ok "mount_fake_runs_helper_with_f_v" "exit $rc, output: $out" "$out2"
fi
out=$("$helper" -s -f -v "$src" "$mnt" -o no_such_option,allow_other 2>&1)
rc=$?
if [ $rc = 0 ] && [[ "$out" == *"ignoring option no_such_option"* ]] &&
   [[ "$out" == *'subtype=fuse-bpf,allow_other")'* ]]; then
	ok "sloppy_drops_unknown"
else
	not_ok "sloppy_drops_unknown" "exit $rc, output: $out"
fi

totals
